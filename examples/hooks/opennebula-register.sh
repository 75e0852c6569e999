#!/bin/sh
# prestaged hook: register an image in OpenNebula as vmcatcher's OpenNebula
# handlers do, from the same VMCATCHER_EVENT_* variables: an available image
# is registered (or its new version replaces the old), an expired one is
# disabled. Run as oneadmin, or with ONE_AUTH set.
#
#   hook "opennebula" {
#     command = ["/usr/local/libexec/prestaged/opennebula-register.sh", "default"]
#     timeout = "10m"
#   }
set -eu
datastore=${1:-default}
name="${VMCATCHER_EVENT_DC_IDENTIFIER}"
case "$VMCATCHER_EVENT_TYPE" in
AvailablePostfix)
	if oneimage show "$name" >/dev/null 2>&1; then
		oneimage rename "$name" "$name-$(date +%s)"
	fi
	oneimage create --name "$name" --path "$VMCATCHER_EVENT_FILENAME" \
		--datastore "$datastore" --type OS --prefix vd \
		--description "${VMCATCHER_EVENT_DC_TITLE:-$name} (sha512 ${VMCATCHER_EVENT_SL_CHECKSUM_SHA512:-none})"
	;;
ExpirePostfix)
	oneimage disable "$name" || true
	;;
esac
