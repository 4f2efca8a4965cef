variable "ssh_user" {
  default = "hadoop"
}

locals {
  data = "/data"
}

ssh {
  user        = var.ssh_user
  private_key = "~/.ssh/id_ed25519"
}
host "h01" {
  address = "10.0.0.11"
}
host "h02" {
  address = "10.0.0.12"
}
host "h03" {
  address = "10.0.0.13"
}
host "h04" {
  address = "10.0.0.14"
}
host "h05" {
  address = "10.0.0.15"
}
host "h06" {
  address = "10.0.0.16"
}
host "h07" {
  address = "10.0.0.17"
}
host "h08" {
  address = "10.0.0.18"
}
host "h09" {
  address = "10.0.0.19"
}
host "h10" {
  address = "10.0.0.20"
}
host "h11" {
  address = "10.0.0.21"
}
host "h12" {
  address = "10.0.0.22"
}
host "h13" {
  address = "10.0.0.23"
}
host "h14" {
  address = "10.0.0.24"
}
host "h15" {
  address = "10.0.0.25"
}

zookeeper {
  servers         = ["h01", "h02", "h03"]
  session_timeout = "6s"
  data_dir        = "${local.data}/zookeeper"
}

nameservice "alpha" {
  namenode "nn1" {
    host = "h04"
  }
  namenode "nn2" {
    host = "h05"
  }
  namenode "nn3" {
    host = "h06"
  }

  journal {
    hosts     = ["h01", "h02", "h13", "h14", "h15"]
    edits_dir = "${local.data}/journal"
  }

  automatic_failover = true
  fencing {
    methods           = ["sshfence", "shell(/bin/true)"]
    private_key_files = ["/home/hadoop/.ssh/id_rsa"]
  }
  name_dir = ["${local.data}/nn1", "${local.data}/nn2"]
}

nameservice "beta" {
  namenode "nn1" {
    host = "h07"
  }
  namenode "nn2" {
    host = "h08"
  }
  namenode "nn3" {
    host = "h09"
  }

  journal {
    hosts     = ["h01", "h02", "h13", "h14", "h15"]
    edits_dir = "${local.data}/journal"
  }

  automatic_failover = true
  fencing {
    methods           = ["sshfence", "shell(/bin/true)"]
    private_key_files = ["/home/hadoop/.ssh/id_rsa"]
  }
  name_dir = ["${local.data}/nn1", "${local.data}/nn2"]
}

nameservice "gamma" {
  namenode "nn1" {
    host = "h10"
  }
  namenode "nn2" {
    host = "h11"
  }
  namenode "nn3" {
    host = "h12"
  }

  journal {
    hosts     = ["h01", "h02", "h13", "h14", "h15"]
    edits_dir = "${local.data}/journal"
  }

  automatic_failover = true
  fencing {
    methods           = ["sshfence", "shell(/bin/true)"]
    private_key_files = ["/home/hadoop/.ssh/id_rsa"]
  }
  name_dir = ["${local.data}/nn1", "${local.data}/nn2"]
}

datanode {
  hosts     = ["h01", "h02", "h03", "h04", "h05", "h06", "h07", "h08", "h09", "h10", "h11", "h12", "h13", "h14", "h15"]
  data_dirs = ["${local.data}/dn"]
}

target "ssh" {}
