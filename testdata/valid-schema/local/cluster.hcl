host "a" {
  address = "127.0.9.1"
}
host "b" {
  address = "127.0.9.2"
}
host "c" {
  address = "127.0.9.3"
}

zookeeper {
  servers = ["a", "b", "c"]
}

nameservice "ns1" {
  namenode "nn1" {
    host = "a"
  }
  namenode "nn2" {
    host = "b"
  }

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

datanode {
  hosts     = ["a", "b", "c"]
  data_dirs = ["/data/dn"]
}

target "local" {
  state_dir = ".hactl"
}
