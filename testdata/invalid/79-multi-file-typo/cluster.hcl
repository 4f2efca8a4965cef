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
    host = "jimm"
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

target "ssh" {}
