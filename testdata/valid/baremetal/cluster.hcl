# Three machines, each running a NameNode, a JournalNode and a ZooKeeper
# server: the smallest layout that survives the loss of any one machine.
#
#   hactl validate examples/baremetal
#   hactl render --var ssh_user=hdfs examples/baremetal

host "dim" { address = "192.168.1.6" }
host "oim" { address = "192.168.1.132" }
host "jim" { address = "192.168.1.11" }

locals {
  masters = ["dim", "oim", "jim"]
}

ssh { # defaults for every host; a host block may override them
  user        = var.ssh_user
  private_key = var.ssh_private_key
  known_hosts = "~/.ssh/known_hosts"
}

zookeeper {
  managed         = true
  servers         = local.masters
  client_port     = 2181
  session_timeout = "5s"
  data_dir        = "/var/lib/zookeeper"
}

nameservice "hacluster" {
  namenode "dnn" { host = "dim" } # rpc_port 8020, http_port 9870
  namenode "onn" { host = "oim" }
  namenode "jnn" { host = "jim" }

  journal {
    hosts     = local.masters # qjournal://192.168.1.6:8485;192.168.1.132:8485;192.168.1.11:8485/hacluster
    edits_dir = "/hdfs/journalnode"
  }

  automatic_failover = true
  fencing {
    # sshfence kills the old active over SSH. When its machine is powered off
    # SSH cannot connect and sshfence fails; shell(/bin/true) then lets the
    # failover proceed, which is safe because the quorum journal already
    # refuses the old active's writes.
    methods           = ["sshfence(${var.ssh_user}:22)", "shell(/bin/true)"]
    private_key_files = ["/home/${var.ssh_user}/.ssh/id_rsa"]
    connect_timeout   = "10s"
  }
  name_dir = "/hdfs/namenode"
}

target "ssh" {}
