#!/bin/sh
# prestaged postrm (Debian). Remove keeps the admin's configuration, the
# units' enablement included; purge has deb-systemd-helper forget and
# delete that enablement, and deletes the spec, the default store
# /var/lib/prestaged (cached blobs, staging, state) and the metrics file.
# Images installed at the spec's `install` paths belong to the admin and
# are left in place.
set -e

if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi

if [ "$1" = purge ]; then
	if command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper purge prestaged.service prestaged.socket prestaged-apply.service prestaged-apply.timer >/dev/null || true
	fi
	rm -rf /var/lib/prestaged
	rm -f /var/lib/prometheus/node-exporter/prestaged.prom
	rmdir /etc/prestaged 2>/dev/null || true
fi
exit 0
