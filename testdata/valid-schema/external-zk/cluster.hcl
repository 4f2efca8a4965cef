# An existing ZooKeeper quorum and existing JournalNodes (given only by the
# qjournal URI): hactl runs the NameNodes and ZKFCs only.
host "nn-a" {
  address = "10.1.0.1"
}
host "nn-b" {
  address = "10.1.0.2"
}

zookeeper {
  managed         = false
  servers         = ["zk1.example.com:2181", "zk2.example.com", "10.1.0.30:2182"]
  session_timeout = "10s"
  parent_znode    = "/prod/hadoop-ha"
}

nameservice "prod" {
  namenode "nn1" {
    host = "nn-a"
  }
  namenode "nn2" {
    host = "nn-b"
  }
  shared_edits = "qjournal://jn1.example.com:8485;jn2.example.com:8485;jn3.example.com:8485/prod"

  automatic_failover = true
  fencing {
    methods           = ["sshfence(hdfs:22)", "shell(/bin/true)"]
    private_key_files = ["/home/hdfs/.ssh/id_ed25519"]
    connect_timeout   = "5s"
  }
  name_dir = ["/data/1/nn", "/data/2/nn"]
}

datanode {
  hosts     = ["nn-a", "nn-b"]
  data_dirs = ["/data/1/dn", "/data/2/dn"]
}

hdfs {
  replication = 2
}

target "ssh" {}
