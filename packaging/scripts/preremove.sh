#!/bin/sh
# prestaged preremove (deb prerm, rpm %preun). On removal (not on upgrade)
# stops the units and removes any enablement the admin made, so no dangling
# symlinks stay behind in /etc/systemd/system.
set -e

units="prestaged-apply.timer prestaged.socket prestaged.service prestaged-apply.service"
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		# shellcheck disable=SC2086
		systemctl stop $units >/dev/null 2>&1 || true
	fi
	if command -v systemctl >/dev/null 2>&1; then
		# shellcheck disable=SC2086
		systemctl --no-reload disable $units >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
