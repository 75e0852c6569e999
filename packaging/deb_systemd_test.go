package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// timerLink is where `systemctl enable prestaged-apply.timer` puts its
// symlink.
const timerLink = "/etc/systemd/system/timers.target.wants/prestaged-apply.timer"

// TestDebSystemdState checks the Debian maintainer scripts' systemd
// semantics in an isolated root: install enables nothing, an admin's
// enablement survives remove and reinstall, and purge forgets it.
func TestDebSystemdState(t *testing.T) {
	if !isolated(t) {
		return
	}
	for _, tool := range []string{"systemctl", "deb-systemd-helper", "dpkg-query"} {
		testutil.Need(t, tool)
	}
	// The machine's own prestaged, if any, is below the overlay: purge it here.
	runErr("dpkg", "--purge", "prestaged")
	t.Cleanup(func() { runErr("dpkg", "--purge", "prestaged") })
	deb := artifacts.Get(t).deb
	dpkg(t, "-i", deb)
	if links := prestagedLinks(t); len(links) != 0 {
		t.Fatalf("install enabled units: %v", links)
	}
	run(t, "systemctl", "enable", "prestaged-apply.timer")
	if _, err := os.Lstat(timerLink); err != nil {
		t.Fatalf("systemctl enable: %v", err)
	}
	dpkg(t, "-r", "prestaged")
	if _, err := os.Lstat(timerLink); err != nil {
		t.Errorf("remove dropped the admin's enablement: %v", err)
	}
	dpkg(t, "-i", deb)
	if _, err := os.Stat(timerLink); err != nil {
		t.Errorf("reinstall: the admin's enablement does not resolve: %v", err)
	}
	dpkg(t, "--purge", "prestaged")
	if links := prestagedLinks(t); len(links) != 0 {
		t.Errorf("purge left enablement behind: %v", links)
	}
	if state, _ := filepath.Glob("/var/lib/systemd/deb-systemd-helper-enabled/*prestaged*"); len(state) != 0 {
		t.Errorf("purge left deb-systemd-helper state: %v", state)
	}
}

// prestagedLinks are the symlinks under /etc/systemd/system that name a
// prestaged unit.
func prestagedLinks(t *testing.T) []string {
	t.Helper()
	var links []string
	_ = filepath.Walk("/etc/systemd/system", func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&os.ModeSymlink != 0 && strings.Contains(filepath.Base(p), "prestaged") {
			links = append(links, p)
		}
		return nil
	})
	return links
}
