# Imported by `hactl import` from Hadoop's core-site.xml and hdfs-site.xml.
# Host names were derived from the addresses; rename them freely (keep the addresses).
host "machine1" {
  address = "machine1.example.com"
}
host "machine2" {
  address = "machine2.example.com"
}
host "machine3" {
  address = "machine3.example.com"
}
host "worker1" {
  address = "worker1.example.com"
}
host "worker2" {
  address = "worker2.example.com"
}
host "h1" {
  address = "10.0.5.9"
}

# An existing ZooKeeper quorum, used as is (managed = true lets hactl run one on declared hosts).
zookeeper {
  managed = false
  servers = ["zk1.example.com:2181", "zk2.example.com:2181", "zk3.example.com:2181"]
}

nameservice "mycluster" {
  namenode "nn1" {
    host = "machine1"
  }
  namenode "nn2" {
    host = "machine2"
  }

  journal {
    hosts     = ["machine1", "machine2", "machine3"]
    edits_dir = "/data/hadoop/journal"
  }

  automatic_failover = true
  fencing {
    methods           = ["sshfence", "shell(/bin/true)"]
    private_key_files = ["/home/exampleuser/.ssh/id_rsa"]
  }
  name_dir = ["/data/hadoop/name1", "/data/hadoop/name2"]
}

datanode {
  hosts     = ["machine1", "worker1", "worker2", "h1"]
  data_dirs = ["/data/1/dfs/dn", "/data/ssd/dfs/dn"]
  port      = 50010
}

hdfs {
  replication           = 3
  heartbeat_interval    = "3s"
  block_report_interval = "6h"
}

# The hosts already exist: hactl reaches them over SSH (add an ssh {} block).
target "ssh" {
}

# Hadoop keys hactl does not model, written to the hosts' files unchanged.
hadoop {
  core_site = {
    "hadoop.tmp.dir"      = "/data/hadoop/tmp"
    "io.file.buffer.size" = "131072"
  }
  hdfs_site = {
    "dfs.datanode.du.reserved"                      = "10737418240"
    "dfs.namenode.servicerpc-address.mycluster.nn1" = "machine1.example.com:8022"
    "dfs.namenode.servicerpc-address.mycluster.nn2" = "machine2.example.com:8022"
  }
}
