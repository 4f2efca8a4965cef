# Federation: two HA nameservices sharing one JournalNode quorum (separate
# journal IDs) and one managed ZooKeeper; ns2's NameNodes have their own dirs.
host "a" { address = "10.20.0.1" }
host "b" { address = "10.20.0.2" }
host "c" { address = "10.20.0.3" }
host "d" { address = "10.20.0.4" }

zookeeper {
  managed  = true
  servers  = ["a", "b", "c"]
  data_dir = "/var/lib/zookeeper"
}

nameservice "ns1" {
  namenode "nn1" { host = "a" }
  namenode "nn2" { host = "b" }
  journal {
    hosts     = ["a", "b", "c"]
    edits_dir = "/data/jn"
  }
  automatic_failover = true
  fencing {
    methods = ["shell(/bin/true)"]
  }
  name_dir = "/data/nn"
}

nameservice "ns2" {
  namenode "nn1" {
    host     = "c"
    rpc_port = 8021
    name_dir = ["/data/nn2a", "/data/nn2b"]
  }
  namenode "nn2" {
    host      = "d"
    http_port = 9871
  }
  journal {
    hosts      = ["a", "b", "c"]
    edits_dir  = "/data/jn"
    journal_id = "ns2-edits"
  }
  automatic_failover = true
  fencing {
    methods           = ["sshfence(hdfs:2222)", "shell(/usr/local/bin/fence.sh)"]
    private_key_files = ["/home/hdfs/.ssh/id_ed25519"]
  }
  name_dir = "/data/nn2"
}

target "ssh" {}
