# A whole HDFS HA cluster on this machine: three "hosts" that are three
# loopback addresses (every address in 127.0.0.0/8 reaches this machine), each
# running a JournalNode, a ZooKeeper server, a NameNode and its ZKFC, and a
# DataNode that stores the blocks (three replicas: one per host).
#
#   hactl validate examples/local
#   hactl render --out /tmp/local-conf examples/local

host "n1" { address = "127.0.1.1" }
host "n2" { address = "127.0.1.2" }
host "n3" { address = "127.0.1.3" }

locals {
  hosts = ["n1", "n2", "n3"]
}

zookeeper {
  managed = true # hactl runs Debian's ZooKeeper on each host
  servers = local.hosts
  # A short tick makes elections and session expiry quick on a laptop;
  # the session timeout must stay within 2 to 20 ticks (0.4s to 4s here).
  tick_time       = "200ms"
  session_timeout = "2s"
  data_dir        = "/var/lib/zookeeper"
}

nameservice "hacluster" {
  namenode "nn1" { host = "n1" }
  namenode "nn2" { host = "n2" }
  namenode "nn3" { host = "n3" }

  journal {
    hosts     = local.hosts # qjournal://127.0.1.1:8485;127.0.1.2:8485;127.0.1.3:8485/hacluster
    edits_dir = "/hdfs/journalnode"
  }

  automatic_failover = true
  fencing {
    # sshfence cannot work here: every "host" is this machine, and ssh-ing to
    # 127.0.1.x to kill a NameNode would find the wrong process. With the
    # quorum journal an old active cannot write anyway (its epoch is refused),
    # so Hadoop's own advice applies: a fencing method that always succeeds.
    methods = ["shell(/bin/true)"]
  }

  name_dir = "/hdfs/namenode"
  # Standby tailing is left to hactl's defaults, which differ from Hadoop's:
  # in-progress edits every 10 ms (backing off to 1 s while idle), so the
  # standbys stay milliseconds behind the active instead of a log roll.
  # tail_edits_period = "10ms"
  # tail_edits_in_progress = true
}

# One DataNode per host; file data lives in their blocks, three replicas each
# (dfs.replication's default), and WebHDFS reads and writes go to them.
datanode {
  hosts     = local.hosts
  data_dirs = ["/hdfs/datanode"] # .hactl/hosts/<host>/hdfs/datanode
}

target "local" {
  # Relative to the directory of this file, not to where hactl runs; every
  # absolute directory above lives under .hactl/hosts/<host>/ (for example
  # .hactl/hosts/n2/hdfs/namenode), so the three hosts never share storage.
  state_dir = ".hactl"
}
