zookeeper {
  servers         = var.masters
  tick_time       = "1s"
  session_timeout = var.session_timeout
  data_dir        = "/data/zookeeper"
}

nameservice "hacluster" {
  namenode "nn1" {
    host = "m1"
  }
  namenode "nn2" {
    host     = "m2"
    name_dir = ["${local.data}/nn-a", "${local.data}/nn-b"]
  }

  journal {
    hosts     = var.masters
    edits_dir = local.jn_dir
  }
  shared_edits = "qjournal://${join(";", [for m in var.masters : "${local.addresses[m] != null ? m : m}:8485"])}/hacluster"

  automatic_failover = true
  fencing {
    methods           = ["sshfence(hdfs:2222)", "shell(/usr/local/bin/fence.sh)"]
    private_key_files = ["/home/hdfs/.ssh/id_rsa"]
    connect_timeout   = "30s"
  }
  name_dir                      = local.nn_dir
  tail_edits_period             = "500ms"
  tail_edits_in_progress        = true
  not_become_active_in_safemode = false

  qjournal {
    write_timeout     = "20s"
    new_epoch_timeout = "2m"
  }
}

nameservice "warehouse" {
  namenode "w1" {
    host      = "m2"
    rpc_port  = 8021
    http_port = 9871
  }
  namenode "w2" {
    host      = "m3"
    rpc_port  = 8021
    http_port = 9871
  }
  journal {
    hosts      = var.masters
    edits_dir  = local.jn_dir
    journal_id = "warehouse"
  }
  name_dir = "/data/warehouse"
}

# Every master also stores blocks; m3 has a second disk.
datanode {
  hosts     = ["m1", "m2"]
  data_dirs = ["${local.data}/dn"]
}
datanode {
  hosts     = ["m3"]
  data_dirs = ["${local.data}/dn", "/data2/dn"]
  http_port = 9865
}

hdfs {
  replication        = 3
  heartbeat_interval = "2s"
}

runtime {
  log_dir = "/srv/log/hactl"
}

hadoop {
  core_site = {
    "hadoop.tmp.dir" = "/data/tmp"
  }
  hdfs_site = {
    "dfs.blocksize" = "268435456"
  }
}

target "ssh" {}
