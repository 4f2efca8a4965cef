host "dim" {
  address = "192.168.1.6"
}
host "oim" {
  address = "192.168.1.132"
}
host "jim" {
  address = "192.168.1.11"
}

