package packaging

import (
	"os"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// rpmDB is where the isolated root keeps its RPM database: inside the
// /var overlay, never Debian's default ~/.rpmdb.
const rpmDB = "/var/lib/rpm"

// rpmRun runs rpm on the isolated root's database.
func rpmRun(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, "rpm", append([]string{"--dbpath", rpmDB}, args...)...)
}

// TestRPMInstall installs the .rpm with its scriptlets for real, checks the
// files, that an upgrade keeps the admin's spec and that erase removes the
// package and stops nothing it did not own. Like TestDeb it runs in an
// isolated root, so the machine's own package state stays as it was; the
// scriptlets' Requires (/bin/sh, systemd) are Debian packages here, which
// rpm cannot see, hence --nodeps.
func TestRPMInstall(t *testing.T) {
	if !isolated(t) {
		return
	}
	testutil.Need(t, "rpm")
	pkg := artifacts.Get(t).rpm
	if err := os.MkdirAll(rpmDB, 0o755); err != nil {
		t.Fatal(err)
	}
	rpmRun(t, "--initdb")
	t.Cleanup(func() { runErr("rpm", "--dbpath", rpmDB, "-e", "--nodeps", "prestaged") })
	rpmRun(t, "-i", "--nodeps", pkg)

	t.Run("installed", func(t *testing.T) {
		if got := rpmRun(t, "-q", "--queryformat", "%{VERSION}-%{RELEASE}", "prestaged"); got != version+"-1" {
			t.Errorf("rpm -q prestaged: %q, want %s-1", got, version)
		}
		for _, p := range append(packaged, docsPackaged("rpm")...) {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("after rpm -i: %v", err)
			}
		}
		if out := rpmRun(t, "-V", "--nodeps", "prestaged"); strings.TrimSpace(out) != "" {
			t.Errorf("rpm -V prestaged:\n%s", out)
		}
		run(t, "/usr/bin/prestaged", "validate", "/etc/prestaged/spec.hcl")
		// %post runs `systemctl preset`; the packaged preset disables all.
		if links := prestagedLinks(t); len(links) != 0 {
			t.Errorf("rpm -i enabled units: %v", links)
		}
	})
	t.Run("upgrade keeps the spec", func(t *testing.T) {
		mine := []byte("# the admin's spec\nstore = \"/var/lib/prestaged\"\n")
		if err := os.WriteFile("/etc/prestaged/spec.hcl", mine, 0o644); err != nil {
			t.Fatal(err)
		}
		rpmRun(t, "-U", "--replacepkgs", "--nodeps", pkg)
		if got, _ := os.ReadFile("/etc/prestaged/spec.hcl"); string(got) != string(mine) {
			t.Errorf("spec after rpm -U:\n%s\nwant the admin's:\n%s", got, mine)
		}
	})
	t.Run("erase", func(t *testing.T) {
		rpmRun(t, "-e", "--nodeps", "prestaged")
		if _, err := runErr("rpm", "--dbpath", rpmDB, "-q", "prestaged"); err == nil {
			t.Error("rpm still knows prestaged after rpm -e")
		}
		for _, p := range append(packaged, docsPackaged("rpm")...) {
			if p == "/etc/prestaged/spec.hcl" {
				continue // changed by the admin: kept aside below
			}
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s remains after rpm -e", p)
			}
		}
		// The admin changed the spec: rpm keeps it aside, as %config does.
		if _, err := os.Stat("/etc/prestaged/spec.hcl.rpmsave"); err != nil {
			t.Errorf("changed spec not kept as .rpmsave: %v", err)
		}
	})
}
