host "n1" { address = "127.0.1.1" }
host "n2" { address = "127.0.1.2" }
host "n3" { address = "127.0.1.3" }

zookeeper {
  servers         = ["n1", "n2", "n3"]
  tick_time       = "200ms"
  session_timeout = "2s"
}

nameservice "hacluster" {
  namenode "nn1" { host = "n1" }
  namenode "nn2" { host = "n2" }
  journal {
    hosts     = ["n1", "n2", "n3"]
    edits_dir = "/hdfs/journalnode"
  }
  automatic_failover = true
  fencing { methods = ["shell(/bin/true)"] }
  name_dir = "/hdfs/namenode"
}

target "local" {}

# replication is 1..512.
datanode {
  hosts     = ["n1", "n2", "n3"]
  data_dirs = ["/hdfs/dn"]
}

hdfs {
  replication = 0
}
