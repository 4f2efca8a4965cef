# Imported by `hactl import` from Hadoop's core-site.xml and hdfs-site.xml.
# Host names were derived from the addresses; rename them freely (keep the addresses).
host "nn1" {
  address = "nn1.example.net"
}
host "nn2" {
  address = "nn2.example.net"
}
host "jn3" {
  address = "jn3.example.net"
}

# An existing ZooKeeper quorum, used as is (managed = true lets hactl run one on declared hosts).
zookeeper {
  managed = false
  servers = ["zk1.example.net:2181", "zk2.example.net:2181", "zk3.example.net:2181"]
}

nameservice "prod" {
  namenode "nn1" {
    host = "nn1"
  }
  namenode "nn2" {
    host = "nn2"
  }

  journal {
    hosts     = ["nn1", "nn2", "jn3"]
    edits_dir = "/data/jn"
  }

  automatic_failover = true
  fencing {
    methods           = ["sshfence", "shell(/bin/true)"]
    private_key_files = ["/home/hdfs/.ssh/id_rsa"]
  }
  name_dir = "/data/nn"
}

# The hosts already exist: hactl reaches them over SSH (add an ssh {} block).
target "ssh" {
}

# Hadoop keys hactl does not model, written to the hosts' files unchanged.
hadoop {
  hdfs_site = {
    "dfs.replication" = "2"
  }
}
