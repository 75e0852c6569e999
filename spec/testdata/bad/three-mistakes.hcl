# Three mistakes on three lines, all reported by one run.
mirror "central" {
  url = "https://images.example.org/vm/"
}

image "slc6-batch" {
  sha256  = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7"
  size    = 10737418240
  install = "/var/lib/libvirt/images/slc6-batch.img"
}

image "cernvm" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  instal  = "/var/lib/libvirt/images/cernvm.img"
  size    = 1
  sources = ["mirror.centrl"]
}
