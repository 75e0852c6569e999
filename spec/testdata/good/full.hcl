# Every block and attribute, with a computed tree placing this host third.
store         = "/srv/prestaged"
stall_timeout = "45s"
parallel      = 4

peer {
  listen       = ":7000"
  hosts        = ["lxb0001", "lxb0002:7000", "lxb0003", "lxb0004", "10.0.0.5", "::6", "[::7]:7001"]
  fanout       = 2
  self         = "lxb0004"
  upload_limit = "900Mbit"
  pipelined    = false
  max_children = 3
}

mirror "central" {
  url = "https://images.example.org/vm/"
}

mirror "local" {
  url = "cache/images"
}

mirror "nfs" {
  url = "file:///net/images"
}

trust "cern" {
  list        = "https://images.example.org/lists/cern.list"
  ca_dir      = "certificates"
  endorser_dn = "/DC=ch/DC=cern/OU=computers/CN=image-endorser"
  endorser_ca = "/DC=ch/DC=cern/CN=CERN Grid Certification Authority"
  list_id     = "76fdee70-8119-5d33-9f40-3c57e1c60df1"
  on_revoke   = "keep"
  allow_sha1  = true
  crl         = "optional"
  subscribe   = true
  install_dir = "/var/lib/one/datastores/1"

  defaults {
    install_format = "raw"
    owner          = "0"
    mode           = "0600"
  }
}

torrent {
  tracker         = "udp://tracker.example.org:6969/announce"
  listen          = ":6999"
  peers_from_tree = true
}

image "slc6-batch" {
  sha512      = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
  size        = 1024
  path        = "slc6/batch-20101130.img"
  install     = "images/slc6-batch.img"
  sources     = ["mirror.local", "parents", "torrent", "mirror.central"]
  torrent_url = "https://images.example.org/torrents/slc6-batch.torrent"
  infohash    = "0123456789ABCDEF0123456789abcdef01234567"

  format         = "zst"
  install_format = "raw"
  owner          = "root"
  group          = "0"
  mode           = "0640"
  on_change      = "keep"
}

image "cernvm" {
  trust   = "cern"
  id      = "c8a6b8f2-4b0f-5d0b-8e5c-7bd0e1a2f3c4"
  install = "/var/lib/libvirt/images/cernvm.img"
}

hook "libvirt" {
  command = ["/usr/bin/virsh", "pool-refresh", "default"]
  on      = ["install", "replace"]
  timeout = "30s"
}
