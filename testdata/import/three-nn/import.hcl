# Imported by `hactl import` from Hadoop's core-site.xml and hdfs-site.xml.
# Host names were derived from the addresses; rename them freely (keep the addresses).
host "h1" {
  address = "10.1.0.11"
}
host "h2" {
  address = "10.1.0.12"
}
host "h3" {
  address = "10.1.0.13"
}
host "h4" {
  address = "10.1.0.14"
}
host "h5" {
  address = "10.1.0.15"
}

# An existing ZooKeeper quorum, used as is (managed = true lets hactl run one on declared hosts).
zookeeper {
  managed         = false
  servers         = ["10.1.0.21:2181", "10.1.0.22:2181", "10.1.0.23:2181"]
  session_timeout = "10s"
  parent_znode    = "/prod-ha"
}

nameservice "prod" {
  namenode "nn1" {
    host      = "h1"
    http_port = 50070
  }
  namenode "nn2" {
    host = "h2"
  }
  namenode "nn3" {
    host     = "h3"
    rpc_port = 9000
    name_dir = ["/srv/nn-a", "/srv/nn-b"]
  }

  journal {
    hosts      = ["h1", "h2", "h3", "h4", "h5"]
    edits_dir  = "/srv/jn"
    http_port  = 8481
    journal_id = "prod-journal"
  }

  automatic_failover = true
  fencing {
    methods = ["shell(/usr/local/bin/fence-nn.sh $target_host $target_port)"]
  }
  name_dir                      = "/srv/nn"
  tail_edits_period             = "500ms"
  tail_edits_in_progress        = true
  not_become_active_in_safemode = true
  qjournal {
    write_timeout                = "60s"
    start_segment_timeout        = "20s"
    prepare_recovery_timeout     = "120s"
    accept_recovery_timeout      = "120s"
    finalize_segment_timeout     = "120s"
    select_input_streams_timeout = "20s"
    new_epoch_timeout            = "120s"
  }
}

# The hosts already exist: hactl reaches them over SSH (add an ssh {} block).
target "ssh" {
}

# Hadoop keys hactl does not model, written to the hosts' files unchanged.
hadoop {
  hdfs_site = {
    "dfs.client.failover.proxy.provider.prod"   = "org.apache.hadoop.hdfs.server.namenode.ha.RequestHedgingProxyProvider"
    "dfs.qjournal.get-journal-state.timeout.ms" = "120000"
  }
}
