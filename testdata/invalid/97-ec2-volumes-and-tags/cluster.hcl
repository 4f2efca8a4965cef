host "dim" {
  address = "192.168.1.6"
}
host "oim" {
  address = "192.168.1.132"
}
host "jim" {
  address = "192.168.1.11"
}

zookeeper {
  servers = ["dim", "oim", "jim"]
}

nameservice "hacluster" {
  namenode "dnn" {
    host = "dim"
  }
  namenode "onn" {
    host = "oim"
  }
  namenode "jnn" {
    host = "jim"
  }

  journal {
    hosts     = ["dim", "oim", "jim"]
    edits_dir = "/hdfs/journalnode"
  }

  automatic_failover = true
  fencing {
    methods           = ["sshfence", "shell(/bin/true)"]
    private_key_files = ["/home/hadoop/.ssh/id_rsa"]
  }
  name_dir = "/hdfs/namenode"
}
target "ec2" {
  region    = "eu-west-1"
  ssh_cidrs = ["192.0.2.0/24"]
  tags = {
    "aws:owner" = "me"
    Name        = "cluster"
    team        = "data"
  }
  instance_group "master" {
    instance_type     = "m5.xlarge"
    hosts             = ["dim", "oim", "jim"]
    root_volume_gb    = 4
    root_volume_type  = "gp4"
    data_volume_mount = "/data"
  }
  instance_group "core" {
    instance_type     = "m5.xlarge"
    count             = 2
    data_volume_gb    = 100
    data_volume_mount = "data/"
  }
}
