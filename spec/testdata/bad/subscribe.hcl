# A subscription needs a directory; its defaults are an image's install attributes.
trust "egi" {
  list        = "https://appdb.example.org/egi.list"
  ca_dir      = "/etc/grid-security/certificates"
  endorser_dn = "/DC=eu/DC=egi/CN=endorser"
  endorser_ca = "/DC=eu/DC=egi/CN=CA"
  subscribe   = true

  defaults {
    install_format = "vhd"
  }
}

trust "cern" {
  list        = "https://images.example.org/cern.list"
  ca_dir      = "/etc/grid-security/certificates"
  endorser_dn = "/DC=ch/DC=cern/CN=endorser"
  endorser_ca = "/DC=ch/DC=cern/CN=CA"
  install_dir = "/var/lib/images"
}
