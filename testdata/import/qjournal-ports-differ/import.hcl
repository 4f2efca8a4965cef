# Imported by `hactl import` from Hadoop's core-site.xml and hdfs-site.xml.
# Host names were derived from the addresses; rename them freely (keep the addresses).
host "nn1" {
  address = "nn1.example.net"
}
host "nn2" {
  address = "nn2.example.net"
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

  shared_edits = "qjournal://nn1.example.net:8485;nn2.example.net:8485;jn3.example.net:8495/prod"

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
    "dfs.journalnode.edits.dir" = "/data/jn"
  }
}
