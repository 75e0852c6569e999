# The root of a computed tree shares its image blocks with the other hosts:
# "parents" in sources is skipped there with a warning, not an error.
peer {
  hosts  = ["a", "b", "c"]
  fanout = 1
  self   = "a"
}

mirror "central" {
  url = "http://mirror.example.org/"
}

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo.img"
  sources = ["parents", "mirror.central"]
}
