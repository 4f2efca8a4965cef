# Keys hactl does not model go through untouched; a passthrough of a default
# the renderer fills in (the failover proxy provider) replaces that default.
host "p1" { address = "p1.example.org" }
host "p2" { address = "p2.example.org" }
host "p3" { address = "p3.example.org" }

zookeeper {
  managed = false
  servers = ["zk1.example.org:2181", "zk2.example.org:2181", "zk3.example.org:2181"]
}

nameservice "pt" {
  namenode "nn1" { host = "p1" }
  namenode "nn2" { host = "p2" }
  journal {
    hosts     = ["p1", "p2", "p3"]
    edits_dir = "/srv/jn"
  }
  automatic_failover = true
  fencing {
    methods = ["shell(/bin/true)"]
  }
  name_dir = "/srv/nn"
}

hadoop {
  core_site = {
    "hadoop.tmp.dir"      = "/srv/tmp"
    "io.file.buffer.size" = "131072"
  }
  hdfs_site = {
    "dfs.replication"                       = "2"
    "dfs.blocksize"                         = "268435456"
    "dfs.client.failover.proxy.provider.pt" = "org.apache.hadoop.hdfs.server.namenode.ha.RequestHedgingProxyProvider"
    "dfs.namenode.handler.count"            = "64"
  }
}

target "ssh" {}
