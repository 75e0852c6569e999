#!/bin/sh
# prestaged hook: refresh the libvirt storage pool that holds the image, so
# `virsh vol-list` and new domains see it at once.
#
#   hook "libvirt" {
#     command = ["/usr/local/libexec/prestaged/libvirt-pool-refresh.sh", "default"]
#     on      = ["install", "replace", "remove"]
#   }
set -eu
pool=${1:-default}
echo "refreshing pool $pool after $PRESTAGED_EVENT of $PRESTAGED_IMAGE ($PRESTAGED_INSTALL)"
exec virsh --quiet pool-refresh "$pool"
