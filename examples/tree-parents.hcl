# A host whose parents are listed explicitly, for trees that do not follow
# the computed layout (racks, switches). Parents are tried in order; an entry
# without a port gets the port of `listen`.

peer {
  listen  = ":7946"
  parents = ["lxb0012.cern.ch", "lxb0013.cern.ch:7946"]
}

mirror "central" {
  url = "https://images.cern.ch/vm/"
}

image "slc6-batch" {
  sha256  = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
  size    = 10737418240
  path    = "slc6-batch-20101130.img"
  install = "/var/lib/libvirt/images/slc6-batch.img"
  # Default sources: parents first, then the mirror.
}
