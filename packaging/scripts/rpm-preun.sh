#!/bin/sh
# prestaged %preun (RPM). What %systemd_preun does: on erase (not on
# upgrade, $1 is 1 then) stop the units and forget the admin's enablement,
# since RPM has no separate purge.
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
	systemctl --no-reload disable --now prestaged-apply.timer prestaged.socket prestaged.service prestaged-apply.service >/dev/null 2>&1 || :
fi
exit 0
