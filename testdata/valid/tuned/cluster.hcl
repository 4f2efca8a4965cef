# Every tuning knob: three NameNodes, an explicit qjournal URI checked against
# the journal block, tailing of in-progress edits and QJM timeouts, an
# external ZooKeeper with its own parent znode.
host "t1" { address = "10.30.0.1" }
host "t2" { address = "10.30.0.2" }
host "t3" { address = "10.30.0.3" }

zookeeper {
  managed         = false
  servers         = ["zk.example.net:2181", "zk2.example.net:2181", "zk3.example.net:2181"]
  session_timeout = "10s"
  parent_znode    = "/tuned-ha"
}

nameservice "tuned" {
  namenode "nn1" {
    host      = "t1"
    rpc_port  = 9000
    http_port = 50070
  }
  namenode "nn2" { host = "t2" }
  namenode "nn3" { host = "t3" }

  journal {
    hosts     = ["t1", "t2", "t3"]
    edits_dir = "/data/journal"
    rpc_port  = 8495
    http_port = 8490
  }
  shared_edits = "qjournal://10.30.0.1:8495;10.30.0.2:8495;10.30.0.3:8495/tuned"

  automatic_failover = true
  fencing {
    methods           = ["sshfence", "shell(/bin/true)"]
    private_key_files = ["/root/.ssh/id_rsa", "/root/.ssh/id_ed25519"]
    connect_timeout   = "5s"
  }
  name_dir                      = "/data/name"
  tail_edits_period             = "500ms"
  tail_edits_in_progress        = true
  not_become_active_in_safemode = true
  qjournal {
    write_timeout                = "20s"
    start_segment_timeout        = "20s"
    prepare_recovery_timeout     = "2m"
    accept_recovery_timeout      = "2m"
    finalize_segment_timeout     = "2m"
    select_input_streams_timeout = "20s"
    new_epoch_timeout            = "2m"
  }
}

runtime {
  secret_file = "/etc/hadoop/hactl.secret"
}

target "ssh" {}
