# Trust blocks are parsed fully; images name them.
trust "cern" {
  list        = "ftp://images.example.org/cern.list"
  ca_dir      = "/etc/grid-security/certificates"
  endorser_dn = "/DC=ch/DC=cern/OU=computers/CN=image-endorser"
  on_revoke   = "remov"
  crl         = "requird"
}

mirror "central" {
  url = "https://images.example.org/vm/"
}

image "cernvm" {
  trust   = "cerm"
  id      = "c8a6b8f2"
  install = "/images/cernvm.img"
}

image "other" {
  trust   = "cern"
  install = "/images/other.img"
}

image "pinned" {
  id      = "c8a6b8f2"
  install = "/images/pinned.img"
  sources = ["endorsed"]
}
