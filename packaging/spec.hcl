# /etc/prestaged/spec.hcl — what this host must hold.
#
# Configuration management (Puppet, Quattor, ...) normally writes this file;
# package upgrades never overwrite it. As shipped it lists no images, so
# `prestaged apply` has nothing to do. Check a change with
#   prestaged validate /etc/prestaged/spec.hcl
#   prestaged plan /etc/prestaged/spec.hcl
# and see /usr/share/doc/prestaged/README.md for the units that run it.

# Where blobs, staging files and state live (the default).
store = "/var/lib/prestaged"

# This host's place in the distribution tree. `prestaged serve` (or
# prestaged.socket) listens here; children fetch from the parents in order,
# a host with no parents is a root of the tree.
#
# peer {
#   listen       = ":7946"
#   parents      = ["lxb0012.example.org:7946", "lxb0013.example.org:7946"]
#   upload_limit = "900Mbit"
# }

# An HTTP(S) or file:// mirror holding the images.
#
# mirror "central" {
#   url = "https://images.example.org/vm/"
# }

# A signed HEPiX image list and who must have endorsed it.
#
# trust "cern" {
#   list        = "https://images.example.org/lists/cern.list"
#   ca_dir      = "/etc/grid-security/certificates"
#   endorser_dn = "/DC=ch/DC=cern/OU=computers/CN=image-endorser"
#   endorser_ca = "/DC=ch/DC=cern/CN=CERN Grid Certification Authority"
#   crl         = "required"   # CRLs in ca_dir (fetch-crl); "optional" or "off" without them
# }

# An image pinned by digest and size ...
#
# image "slc6-batch" {
#   sha256  = "0000000000000000000000000000000000000000000000000000000000000000"
#   size    = 10737418240
#   path    = "slc6-batch-20101130.img"
#   install = "/var/lib/libvirt/images/slc6-batch.img"
#   sources = ["parents", "mirror.central"]
# }

# ... or one whose digest, size and URL come from an endorsed list.
#
# image "cernvm" {
#   trust   = "cern"
#   id      = "a6d7b9e2-0a3c-4b5e-9f1d-2c3b4a5d6e7f"
#   install = "/var/lib/libvirt/images/cernvm.img"
# }
