#!/bin/sh
# prestaged postinstall (deb postinst, rpm %post). Makes systemd see the new
# or changed units and creates the store from tmpfiles.d. It enables and
# starts nothing: the admin chooses prestaged.service or prestaged.socket
# and prestaged-apply.timer (see /usr/share/doc/prestaged/README.md).
set -e

# deb: "configure <old-version>" ($2 empty on first install); rpm: the
# number of package instances after the transaction (2 on upgrade).
upgrade=no
case "$1" in
configure) if [ -n "$2" ]; then upgrade=yes; fi ;;
[0-9]*) if [ "$1" -ge 2 ]; then upgrade=yes; fi ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	if command -v systemd-tmpfiles >/dev/null 2>&1; then
		systemd-tmpfiles --create /usr/lib/tmpfiles.d/prestaged.conf >/dev/null 2>&1 || true
	fi
	# A running server uses the new binary only after a restart; restart
	# it only if the admin already runs it.
	if [ "$upgrade" = yes ]; then
		systemctl try-restart prestaged.service >/dev/null 2>&1 || true
	fi
fi
exit 0
