variable "ssh_user" {
  default = "hadoop"
}

host "dim" { address = "192.168.1.6" }
host "oim" { address = "192.168.1.132" }
host "jim" { address = "192.168.1.11" }

ssh {
  user        = var.ssh_user
  private_key = "~/.ssh/id_ed25519"
  known_hosts = "~/.ssh/known_hosts"
}

zookeeper {
  managed         = true
  servers         = ["dim", "oim", "jim"]
  client_port     = 2181
  session_timeout = "5s"
}

nameservice "hacluster" {
  namenode "dnn" { host = "dim" }
  namenode "onn" { host = "oim" }
  namenode "jnn" { host = "jim" }

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

datanode {
  hosts     = ["dim", "oim", "jim"]
  data_dirs = ["/hdfs/datanode"]
}

target "ssh" {}
