# A hypervisor in a farm of eight. Configuration management writes this file
# to /etc/prestaged/spec.hcl on every host, changing only `self`.
#
# The hosts form a binary tree (fanout 2) computed from the list: lxb0101 is
# the root and fetches from the mirrors; lxb0106, at index 5, has parent
# lxb0103 (index (5-1)/2 = 2) and grandparent lxb0101. If its parent stops
# sending it tries the grandparent, then the mirrors, resuming each time
# from the bytes it already has.

store         = "/var/lib/prestaged"
stall_timeout = "30s"
parallel      = 2

peer {
  listen       = ":7946"
  hosts        = [
    "lxb0101.cern.ch", "lxb0102.cern.ch", "lxb0103.cern.ch", "lxb0104.cern.ch",
    "lxb0105.cern.ch", "lxb0106.cern.ch", "lxb0107.cern.ch", "lxb0108.cern.ch",
  ]
  fanout       = 2
  self         = "lxb0106.cern.ch"
  upload_limit = "900Mbit" # leave room on the 1 GbE link for the VMs
  max_children = 2
  pipelined    = true      # forward bytes as they arrive, not whole images
}

mirror "central" {
  url = "https://images.cern.ch/vm/"
}

mirror "backup" {
  url = "https://images-backup.cern.ch/vm/"
}

trust "cern" {
  list        = "https://images.cern.ch/lists/cern-batch.list"
  ca_dir      = "/etc/grid-security/certificates"
  endorser_dn = "/DC=ch/DC=cern/OU=computers/CN=image-endorser"
  endorser_ca = "/DC=ch/DC=cern/CN=CERN Grid Certification Authority"
  on_revoke   = "remove"
  crl         = "required"   # every CA of the chain needs a current CRL in ca_dir (fetch-crl)
}

# Pinned: the exact bytes are named here.
image "slc6-batch" {
  sha256  = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
  size    = 10737418240
  path    = "slc6-batch-20101130.img"
  install = "/var/lib/libvirt/images/slc6-batch.img"
  sources = ["parents", "mirror.central", "mirror.backup"]
}

# Endorsed: digest, size and URL come from the signed list; the tree and the
# mirrors are still tried first, the list's own URL last.
image "cernvm" {
  trust   = "cern"
  id      = "c8a6b8f2-4b0f-5d0b-8e5c-7bd0e1a2f3c4"
  install = "/var/lib/libvirt/images/cernvm.img"
}
