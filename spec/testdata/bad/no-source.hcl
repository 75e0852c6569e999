# Without a mirror, parents or a torrent block an image cannot be fetched.
image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo.img"
}
