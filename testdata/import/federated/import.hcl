# Imported by `hactl import` from Hadoop's core-site.xml and hdfs-site.xml.
# Host names were derived from the addresses; rename them freely (keep the addresses).
host "master1" {
  address = "master1.dc1.example.net"
}
host "master2" {
  address = "master2.dc1.example.net"
}
host "master3" {
  address = "master3.dc1.example.net"
}
host "master4" {
  address = "master4.dc1.example.net"
}

# An existing ZooKeeper quorum, used as is (managed = true lets hactl run one on declared hosts).
zookeeper {
  managed = false
  servers = ["zk-a.dc1.example.net:2181", "zk-b.dc1.example.net:2181", "zk-c.dc1.example.net:2181"]
}

nameservice "ns-user" {
  namenode "nn1" {
    host = "master1"
  }
  namenode "nn2" {
    host = "master2"
  }

  journal {
    hosts     = ["master1", "master2", "master3"]
    edits_dir = "/data/jn"
  }

  automatic_failover = true
  fencing {
    methods = ["shell(/bin/true)"]
  }
  name_dir = "/data/nn"
}

nameservice "ns-logs" {
  namenode "nn1" {
    host = "master3"
  }
  namenode "nn2" {
    host = "master4"
  }

  journal {
    hosts     = ["master1", "master2", "master3"]
    edits_dir = "/data/jn"
  }

  automatic_failover = true
  fencing {
    methods = ["shell(/bin/true)"]
  }
  name_dir = "/data/nn"
}

# The hosts already exist: hactl reaches them over SSH (add an ssh {} block).
target "ssh" {
}

# Hadoop keys hactl does not model, written to the hosts' files unchanged.
hadoop {
  hdfs_site = {
    "dfs.blocksize" = "268435456"
  }
}
