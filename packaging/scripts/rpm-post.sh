#!/bin/sh
# prestaged %post (RPM). What %systemd_post and %tmpfiles_create do: on a
# first install, `systemctl preset` applies the site's preset policy and
# /usr/lib/systemd/system-preset/90-prestaged.preset disables every unit
# the site did not ask for, so nothing is enabled unasked. $1 is the number
# of installed instances after the transaction (2 on upgrade).
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
	systemctl --no-reload preset prestaged.service prestaged.socket prestaged-apply.service prestaged-apply.timer >/dev/null 2>&1 || :
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
	systemd-tmpfiles --create /usr/lib/tmpfiles.d/prestaged.conf >/dev/null 2>&1 || :
fi
exit 0
