# Sources must exist in this spec.
mirror "central" {
  url = "https://images.example.org/vm/"
}

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo.img"
  sources = ["parents", "torrent", "mirrors.central", "endorsed"]
}

image "none" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/none.img"
  sources = []
}
