#!/bin/sh
# prestaged prerm (Debian). On removal, not on upgrade (postinst restarts
# what ran), stops the units through deb-systemd-invoke.
set -e

if [ -z "${DPKG_ROOT:-}" ] && [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	deb-systemd-invoke stop prestaged-apply.timer prestaged.socket prestaged.service prestaged-apply.service >/dev/null || true
fi
exit 0
