# A computed tree needs self among hosts, a positive fanout, and no parents.
peer {
  hosts   = ["lxb0001", "lxb0002", "lxb0002:7946", "bad host"]
  parents = ["lxb0009"]
  fanout  = 0
  self    = "lxb0003"
}

mirror "central" { url = "https://images.example.org/vm/" }

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo.img"
}
