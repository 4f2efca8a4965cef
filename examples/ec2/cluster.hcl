# Three masters and a group of core nodes on EC2, the layout of an EMR
# multi-master cluster: each master runs a NameNode, a JournalNode and a
# ZooKeeper server; core nodes are DataNodes and get the client configuration.
# hactl creates the VPC (one subnet in each of three availability zones, the
# masters spread over them), the security group and the instances; the
# instances' addresses become the hosts' addresses.
#
#   hactl validate examples/ec2
#   hactl plan --var ssh_cidr=203.0.113.0/24 examples/ec2

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "ssh_cidr" {
  type        = string
  default     = "192.0.2.0/24"
  description = "The network hactl connects from: SSH is opened to it only."
}

variable "key_name" {
  type    = string
  default = "hactl"
}

# No addresses: each host is an instance of an instance group below, and
# its private address goes into the qjournal URI and the NameNode RPC
# addresses once it is provisioned.
host "master1" {}
host "master2" {}
host "master3" {}
host "core1" {}
host "core2" {}
host "core3" {}

locals {
  masters = ["master1", "master2", "master3"]
}

ssh {
  user        = "admin" # the Debian image's login user
  private_key = "~/.ssh/${var.key_name}.pem"
}

zookeeper {
  managed         = true
  servers         = local.masters
  session_timeout = "5s"
  data_dir        = "/mnt/zookeeper"
}

# EMR names the nameservice of a multi-master cluster "ha-nn-uri".
nameservice "ha-nn-uri" {
  namenode "nn1" { host = "master1" }
  namenode "nn2" { host = "master2" }
  namenode "nn3" { host = "master3" }

  journal {
    hosts     = local.masters
    edits_dir = "/mnt/hdfs/journalnode"
  }

  automatic_failover = true
  fencing {
    # As EMR does: instances are replaced rather than repaired, and the quorum
    # journal refuses a deposed active's writes.
    methods = ["shell(/bin/true)"]
  }
  name_dir = ["/mnt/hdfs/namenode", "/mnt1/hdfs/namenode"]
}

# The core nodes store the blocks, on their EBS data volume.
datanode {
  hosts     = ["core1", "core2", "core3"]
  data_dirs = ["/mnt/hdfs/datanode"]
}

target "ec2" {
  region    = var.region
  key_name  = var.key_name
  ssh_cidrs = [var.ssh_cidr]
  tags      = { project = "hactl-example" }
  # ami_ssm_parameter defaults to Debian 12's newest image; the VPC is new
  # (vpc_cidr 10.42.0.0/16 in the region's first three zones).

  instance_group "master" {
    role              = "master"
    instance_type     = "m5.xlarge"
    count             = 3
    spot              = false # masters hold the namespace: never spot
    hosts             = local.masters
    root_volume_gb    = 30
    data_volume_gb    = 200 # EBS, formatted and mounted at /mnt on first boot
    data_volume_mount = "/mnt"
  }

  instance_group "core" {
    role           = "core"
    instance_type  = "m5.2xlarge"
    count          = 3
    spot           = true
    hosts          = ["core1", "core2", "core3"]
    data_volume_gb = 500
  }
}
