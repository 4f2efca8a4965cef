# $${...} is HCL's escape for a literal ${...}: the path reaches the hosts
# unexpanded, where Hadoop's tools would expand it and hactl's daemons not.
host "dim" {
  address = "192.168.1.6"
}
host "oim" {
  address = "192.168.1.132"
}
host "jim" {
  address = "192.168.1.11"
}

zookeeper {
  servers = ["dim", "oim", "jim"]
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
    edits_dir = "$${hadoop.tmp.dir}/dfs/journalnode"
  }

  automatic_failover = true
  fencing {
    methods = ["shell(/bin/true)"]
  }
  name_dir = ["/hdfs/namenode", "/home/$${user.name}/name"]
}

target "ssh" {}
