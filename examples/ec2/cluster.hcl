# Three masters and a group of core nodes on EC2, the layout of an EMR
# multi-master cluster: each master runs a NameNode, a JournalNode and a
# ZooKeeper server; core nodes are DataNodes and get the client configuration.
#
#   hactl validate examples/ec2
#   hactl render --var subnet_id=subnet-0abc examples/ec2

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "ami" {
  type        = string
  default     = "ami-0123456789abcdef0"
  description = "A Debian 12 or Amazon Linux image with Java 17."
}

variable "key_name" {
  type    = string
  default = "hactl"
}

variable "subnet_id" {
  type    = string
  default = "subnet-0123456789abcdef0"
}

# Private addresses inside the subnet, one per instance; the masters' addresses
# go into the qjournal URI and the NameNode RPC addresses.
host "master1" { address = "10.0.1.11" }
host "master2" { address = "10.0.1.12" }
host "master3" { address = "10.0.1.13" }
host "core1" { address = "10.0.1.21" }
host "core2" { address = "10.0.1.22" }
host "core3" { address = "10.0.1.23" }

locals {
  masters = ["master1", "master2", "master3"]
}

ssh {
  user        = "hadoop" # EMR's login user
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

target "ec2" {
  region    = var.region
  ami       = var.ami
  key_name  = var.key_name
  subnet_id = var.subnet_id

  instance_group "master" {
    role          = "master"
    instance_type = "m5.xlarge"
    count         = 3
    spot          = false # masters hold the namespace: never spot
    hosts         = local.masters
  }

  instance_group "core" {
    role          = "core"
    instance_type = "m5.2xlarge"
    count         = 3
    spot          = true
    hosts         = ["core1", "core2", "core3"]
  }
}
