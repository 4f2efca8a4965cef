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

nameservice "warehouse" {
  namenode "wnn1" {
    host      = "dim"
    rpc_port  = 8020
    http_port = 9873
  }
  namenode "wnn2" {
    host      = "oim"
    rpc_port  = 8020
    http_port = 9872
  }
  journal {
    hosts      = ["dim", "oim", "jim"]
    edits_dir  = "/hdfs/journalnode"
    journal_id = "warehouse"
  }
  name_dir = "/hdfs/warehouse"
}

target "ssh" {}
