// Package packaging holds what turns the prestaged binary into an operable
// service: the systemd units and timer, the tmpfiles.d entry, the default
// /etc/prestaged/spec.hcl, the nfpm configuration, the Debian and RPM
// maintainer scripts and lintian overrides (built by ./build), and the
// tests for them and for the Puppet and Quattor examples under examples/.
// It has no product code; nothing imports it, and it imports nothing of
// prestaged: its tests drive the built binary and packages as an operator
// would.
package packaging
