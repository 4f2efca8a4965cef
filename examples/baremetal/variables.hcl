variable "ssh_user" {
  type        = string
  default     = "hadoop"
  description = "The account hactl logs in as, and the one sshfence uses to reach the old active."
}

variable "ssh_private_key" {
  type        = string
  default     = "~/.ssh/id_ed25519"
  description = "Key hactl uses to reach the hosts from where it runs."
}
