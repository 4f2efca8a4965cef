variable "ssh_user" {
  type        = string
  default     = "hadoop"
  description = "user hactl logs in as"
}

variable "subnet" {
  type    = string
  default = "10.20.0.0/24"
}

variable "masters" {
  type    = list(string)
  default = ["m1", "m2", "m3"]
  validation {
    condition     = length(var.masters) % 2 == 1
    error_message = "Use an odd number of masters."
  }
}

variable "session_timeout" {
  type    = string
  default = "6s"
}

locals {
  data   = "/data"
  nn_dir = "${local.data}/namenode"
}
