locals {
  # A second locals block: references across blocks resolve in dependency order.
  addresses = { for i, m in var.masters : m => cidrhost(var.subnet, 11 + i) }
  jn_dir    = format("%s/%s", local.data, "journal")
}

host "m1" {
  address = local.addresses["m1"]
  ssh {
    port = 2222
    sudo = false
  }
}

host "m2" {
  address = local.addresses["m2"]
}

host "m3" {
  address = lower("M3.Example.COM")
}

ssh {
  user            = var.ssh_user
  private_key     = "~/.ssh/id_ed25519"
  connect_timeout = "10s"
}
