# The smallest useful spec: one mirror, one pinned image, every default.
mirror "central" {
  url = "https://images.example.org/vm"
}

image "slc6-batch" {
  sha256  = "2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE"
  size    = 10737418240
  install = "/var/lib/libvirt/images/slc6-batch.img"
}
