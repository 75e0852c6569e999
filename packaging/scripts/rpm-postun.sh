#!/bin/sh
# prestaged %postun (RPM). What %systemd_postun_with_restart does for the
# server: reload systemd and, on upgrade ($1 is 1), restart it only if it
# runs. Erase leaves the spec (as spec.hcl.rpmsave if changed) and the
# store /var/lib/prestaged, which may hold images worth hours of transfer.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -ge 1 ]; then
		systemctl try-restart prestaged.service >/dev/null 2>&1 || :
	fi
fi
exit 0
