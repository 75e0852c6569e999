package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// dpkg runs dpkg, waiting while apt or another dpkg holds the lock.
func dpkg(t *testing.T, args ...string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		out, err := runErr("dpkg", args...)
		if err == nil {
			return out
		}
		if !strings.Contains(err.Error(), "lock") || attempt == 60 {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
	}
}

// TestDeb installs the .deb, checks the files, the conffile and that a
// reinstall keeps the admin's spec, then purges it and checks nothing is
// left. It runs in an isolated root (isolated), so it neither needs nor
// touches a machine without prestaged: one that has it installed for real
// keeps it as it was.
func TestDeb(t *testing.T) {
	if !isolated(t) {
		return
	}
	testutil.NeedAll(t, "dpkg", "dpkg-query")
	deb := artifacts.Get(t).deb
	leftovers := append([]string{"/etc/prestaged", "/var/lib/prestaged", "/usr/share/doc/prestaged"}, packaged...)
	// What the machine has stays below the overlay; this root starts clean.
	if _, err := runErr("dpkg-query", "-W", "prestaged"); err == nil {
		dpkg(t, "--purge", "prestaged")
	}
	for _, p := range leftovers {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { runErr("dpkg", "--purge", "prestaged") })
	dpkg(t, "-i", deb)

	t.Run("installed", func(t *testing.T) { checkInstalled(t) })
	t.Run("reinstall keeps the spec", func(t *testing.T) {
		mine := []byte("# the admin's spec\nstore = \"/var/lib/prestaged\"\n")
		if err := os.WriteFile("/etc/prestaged/spec.hcl", mine, 0o644); err != nil {
			t.Fatal(err)
		}
		dpkg(t, "-i", deb)
		if got, _ := os.ReadFile("/etc/prestaged/spec.hcl"); string(got) != string(mine) {
			t.Errorf("spec after reinstall:\n%s\nwant the admin's:\n%s", got, mine)
		}
	})
	t.Run("purge leaves no trace", func(t *testing.T) {
		// A store in use: purge removes the default store as well.
		if err := os.MkdirAll("/var/lib/prestaged/blobs/sha256", 0o755); err != nil {
			t.Fatal(err)
		}
		dpkg(t, "--purge", "prestaged")
		for _, p := range leftovers {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s remains after dpkg --purge", p)
			}
		}
		if out, err := runErr("dpkg-query", "-W", "-f=${Status}", "prestaged"); err == nil && !strings.Contains(out, "not-installed") {
			t.Errorf("dpkg still knows prestaged: %q", out)
		}
	})
}

func checkInstalled(t *testing.T) {
	status := run(t, "dpkg-query", "-W", "-f=${Status} ${Version}", "prestaged")
	if want := "install ok installed " + version + "-1"; status != want {
		t.Errorf("status %q, want %q", status, want)
	}
	conf := run(t, "dpkg-query", "-W", "-f=${Conffiles}", "prestaged")
	if f := strings.Fields(conf); len(f) != 2 || f[0] != "/etc/prestaged/spec.hcl" {
		t.Errorf("conffiles %q, want only /etc/prestaged/spec.hcl", conf)
	}
	modes := map[string]os.FileMode{"/usr/bin/prestaged": 0o755, "/var/lib/prestaged": os.ModeDir | 0o755}
	for _, p := range append(packaged, "/var/lib/prestaged") {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		want, ok := modes[p]
		if !ok {
			want = 0o644
		}
		if fi.Mode() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode(), want)
		}
	}
	run(t, "/usr/bin/prestaged", "validate", "/etc/prestaged/spec.hcl")
	if testutil.Need(t, "systemd-analyze") != "" {
		// The units as installed, with the packaged binary in place.
		args := []string{"verify"}
		for _, u := range units {
			args = append(args, filepath.Join("/usr/lib/systemd/system", u))
		}
		if out, err := runCombined("systemd-analyze", args...); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify of the installed units: %v\n%s", err, out)
		}
	}
}
