# Unknown blocks and attributes get "Did you mean".
stall_timeot = "30s"

mirorr "central" {
  url = "https://images.example.org/vm/"
}

torrent {
  traker          = "udp://tracker.example.org:6969/announce"
  peers_from_tree = true
}

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "/images/demo.img"
}
