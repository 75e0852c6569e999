# Values of the wrong type or form, each pointed at.
store         = "/srv/prestaged"
stall_timeout = "30"
parallel      = 0

mirror "central" {
  url = "ftp://images.example.org/vm/"
}

mirror "query" {
  url = "https://images.example.org/vm?token=1"
}

image "demo" {
  sha256   = "not hex at all, not hex at all, not hex at all, not hex at all!!"
  size     = -5
  path     = "../escape.img"
  install  = "/srv/prestaged/blobs/demo.img"
  infohash = "0123"
}

image "typed" {
  sha512  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = "big"
  install = ["not", "a", "string"]
}
