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
    hosts     = ["dim", "oim", "jim", "kim"]
    edits_dir = "/hdfs/journalnode"
  }

  automatic_failover = true
  fencing {
    methods           = ["sshfence", "shell(/bin/true)"]
  }
  name_dir = "/hdfs/namenode"
}

datanode {
  hosts     = ["dim", "oim", "jim"]
  data_dirs = ["/hdfs/datanode"]
}

host "kim" {
  address = "192.168.1.12"
}

target "ssh" {}
