# Bad values inside the peer block, and self without hosts.
peer {
  listen       = "7946"
  parents      = ["lxb0001:99999", "a:b:c"]
  upload_limit = "900"
  max_children = -1
  self         = "lxb0002"
}

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo.img"
}

mirror "central" {
  url = "https://images.example.org/vm/"
}
