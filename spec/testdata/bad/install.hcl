# What lands at install: formats, mode, owner and group must be real.
mirror "central" { url = "https://images.example.org/vm/" }

image "demo" {
  sha256         = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size           = 1
  install        = "/images/demo.img"
  format         = "qcow"
  install_format = "vmdk"
  mode           = "rw-r--r--"
  owner          = "no-such-user-prestaged"
  group          = "no-such-group-prestaged"
  on_change      = "ignore"
}
