# Three SSH hosts run the NameNodes, JournalNodes and ZooKeeper; four workers
# run DataNodes, two of them with a second disk and other ports.
host "m1" { address = "10.40.0.1" }
host "m2" { address = "10.40.0.2" }
host "m3" { address = "10.40.0.3" }
host "w1" { address = "10.40.1.1" }
host "w2" { address = "10.40.1.2" }
host "w3" { address = "10.40.1.3" }
host "w4" { address = "10.40.1.4" }

zookeeper {
  servers = ["m1", "m2", "m3"]
}

nameservice "dn" {
  namenode "nn1" { host = "m1" }
  namenode "nn2" { host = "m2" }
  journal {
    hosts     = ["m1", "m2", "m3"]
    edits_dir = "/hdfs/jn"
  }
  automatic_failover = true
  fencing {
    methods = ["shell(/bin/true)"]
  }
  name_dir = "/hdfs/nn"
}

datanode {
  hosts     = ["w1", "w2"]
  data_dirs = ["/data/1/dfs/dn"]
}

datanode {
  hosts     = ["w3", "w4"]
  data_dirs = ["/data/1/dfs/dn", "/data/2/dfs/dn"]
  port      = 50010
  http_port = 50075
  ipc_port  = 50020
}

hdfs {
  replication           = 2
  heartbeat_interval    = "1s"
  block_report_interval = "1h"
}

target "ssh" {}
