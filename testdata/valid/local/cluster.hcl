# target local: hosts are loopback addresses and every absolute directory is
# rooted under <state_dir>/hosts/<host>/ (state_dir relative to this file).
host "l1" { address = "127.0.8.1" }
host "l2" { address = "127.0.8.2" }
host "l3" { address = "127.0.8.3" }

zookeeper {
  managed         = true
  servers         = ["l1", "l2", "l3"]
  client_port     = 2182
  tick_time       = "200ms"
  session_timeout = "2s"
  data_dir        = "/var/lib/zookeeper"
}

nameservice "local" {
  namenode "nn1" { host = "l1" }
  namenode "nn2" { host = "l2" }
  journal {
    hosts     = ["l1", "l2", "l3"]
    edits_dir = "/hdfs/jn"
  }
  automatic_failover = true
  fencing {
    methods = ["shell(/bin/true)"]
  }
  name_dir = ["/hdfs/nn", "/hdfs/nn-mirror"]
}

runtime {
  conf_dir = "/etc/hactl-test"
}

target "local" {
  state_dir = "state"
}
