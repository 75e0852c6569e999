#!/bin/sh
# prestaged postinst (Debian). The snippets dh_installsystemd --no-enable
# --restart-after-upgrade and dh_installtmpfiles would write: systemd is
# driven only through deb-systemd-helper and deb-systemd-invoke, so an
# admin's enablement survives upgrades, purge can forget it, and policy-rc.d
# is honoured. It enables and starts nothing: the admin chooses
# prestaged.service or prestaged.socket and prestaged-apply.timer (see
# /usr/share/doc/prestaged/README.md).
set -e

units="prestaged.service prestaged.socket prestaged-apply.service prestaged-apply.timer"

if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ]; then
	for unit in $units; do
		if deb-systemd-helper debian-installed "$unit"; then
			# Lifts the mask postrm set on remove, so a reinstall sees the
			# admin's enablement again.
			deb-systemd-helper unmask "$unit" >/dev/null || true
			if deb-systemd-helper --quiet was-enabled "$unit"; then
				# Creates new symlinks, if any, for a unit the admin enabled.
				deb-systemd-helper enable "$unit" >/dev/null || true
			fi
		fi
		# Records the symlinks, so purge can remove them.
		deb-systemd-helper update-state "$unit" >/dev/null || true
	done

	if [ -x "$(command -v systemd-tmpfiles)" ]; then
		systemd-tmpfiles ${DPKG_ROOT:+--root="$DPKG_ROOT"} --create prestaged.conf >/dev/null || true
	fi

	if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		# A running server uses the new binary only after a restart;
		# try-restart leaves a stopped one stopped.
		if [ -n "$2" ]; then
			deb-systemd-invoke try-restart prestaged.service >/dev/null || true
		fi
	fi
fi
exit 0
