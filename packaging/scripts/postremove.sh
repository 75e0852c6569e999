#!/bin/sh
# prestaged postremove (deb postrm, rpm %postun). Reloads systemd when it
# runs. `dpkg --purge` also deletes the default store /var/lib/prestaged
# (cached blobs, staging, state) and the metrics file. Images installed at
# the spec's `install` paths belong to the admin and are left in place.
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = purge ]; then
	rm -rf /var/lib/prestaged
	rm -f /var/lib/prometheus/node-exporter/prestaged.prom
	rmdir /etc/prestaged 2>/dev/null || true
fi
exit 0
