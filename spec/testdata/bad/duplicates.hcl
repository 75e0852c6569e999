# Names and install paths must be unique, and there is one peer block.
peer {
  listen = ":7946"
}

peer {
  listen = ":7947"
}

mirror "central" {
  url = "https://a.example.org/"
}

mirror "central" {
  url = "https://b.example.org/"
}

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo.img"
}

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo2.img"
}

image "demo-copy" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/../images/demo.img"
  sources = ["mirror.central", "mirror.central"]
}
