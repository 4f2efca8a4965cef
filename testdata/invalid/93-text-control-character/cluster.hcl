# Control characters in free strings that are not paths.
host "dim" {
  address = "192.168.1.6"
}
host "oim" {
  address = "192.168.1.132"
  ssh {
    user = "had\roop"
  }
}
host "jim" {
  address = "192.168.1.11"
}

ssh {
  user    = "hadoop\n"
  bastion = "jump@bastion\t:22"
}

zookeeper {
  servers      = ["dim", "oim", "jim"]
  parent_znode = "/hadoop-ha\u0000x"
}

nameservice "hacluster" {
  namenode "dnn" {
    host = "dim"
  }
  namenode "onn" {
    host = "oim"
  }
  namenode "jnn" {
    host = "jim"
  }

  journal {
    hosts     = ["dim", "oim", "jim"]
    edits_dir = "/hdfs/journalnode"
  }

  automatic_failover = true
  fencing {
    methods           = ["sshfence(hdfs\n)", "shell(/bin/true)"]
    private_key_files = ["/home/hadoop/.ssh/id_rsa"]
  }
  name_dir = "/hdfs/namenode"
}

hadoop {
  core_site = {
    "hadoop.http.staticuser.user" = "dr\u0001who"
  }
  hdfs_site = {
    "dfs.namenode.handler.count\n" = "20"
    "dfs.hosts"                    = "/etc/hadoop/hosts\n"
  }
}

target "ssh" {}
