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

target "ssh" {}

hadoop {
  core_site = {
    "hadoop.tmp.dir"      = "/hdfs/tmp"
  }
  hdfs_site = {
    "dfs.namenode.shared.edits.dir.hacluster.dnn" = "qjournal://dim:8485;oim:8485;jim:8485/elsewhere"
    "dfs.replication"       = "3"
  }
}
