# Explicit parents, a relative store, and a file mirror given as a path.
store = "../state"

peer {
  parents = ["lxb0012", "lxb0013:7947"]
}

mirror "here" {
  url = "/srv/mirror"
}

image "demo" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 2097152
  install = "../images/demo.img"
}
