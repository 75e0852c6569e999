# A computed tree with no hosts, and hosts that are not a list.
peer {
  hosts = []
  self  = "lxb0001"
}

torrent {
  listen = "6881"
}

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo.img"
  sources = "torrent"
}
