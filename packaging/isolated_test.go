package packaging

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// Package tests that install and purge run in a private mount namespace in
// which /etc, /usr and /var are copy-on-write overlays of the machine's: the
// package manager, its database and the maintainer scripts run for real,
// and whatever the machine has installed (prestaged included) is neither
// seen as an obstacle nor changed.
const (
	isolatedEnv  = "PRESTAGED_PACKAGING_ISOLATED"
	artifactsEnv = "PRESTAGED_PACKAGING_ARTIFACTS" // binary, deb, rpm of the parent's build
)

// overlaid are the directories a package install writes to.
var overlaid = []string{"/etc", "/usr", "/var"}

// isolated runs the calling test again, alone, inside the isolated root,
// and reports its result; it returns true only in that child, where the
// test's body runs. The parent also checks that the machine's own package
// databases are byte-for-byte what they were.
func isolated(t *testing.T) bool {
	t.Helper()
	if os.Getenv(isolatedEnv) != "" {
		if err := enterOverlays(); err != nil {
			t.Fatalf("isolated root: %v", err)
		}
		return true
	}
	testutil.NeedRoot(t)
	testutil.Need(t, "unshare")
	b := artifacts.Get(t)
	before := machineState(t)
	cmd := exec.Command("unshare", "--mount", "--propagation", "private",
		os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), isolatedEnv+"=1", artifactsEnv+"="+strings.Join([]string{b.binary, b.deb, b.rpm}, ","))
	out, err := cmd.CombinedOutput()
	t.Logf("in an isolated root:\n%s", out)
	if err != nil {
		t.Errorf("%s in an isolated root: %v", t.Name(), err)
	}
	if after := machineState(t); after != before {
		t.Errorf("the machine's package state changed:\nbefore: %s\nafter:  %s", before, after)
	}
	return false
}

var overlayOnce sync.Once

// enterOverlays mounts the overlays once per process; the process is
// already in its own mount namespace (unshare), so they vanish with it.
func enterOverlays() (err error) {
	overlayOnce.Do(func() {
		tmp, e := os.MkdirTemp("", "prestaged-isolated-")
		if e != nil {
			err = e
			return
		}
		if err = syscall.Mount("prestaged-isolated", tmp, "tmpfs", 0, "mode=0700"); err != nil {
			err = fmt.Errorf("tmpfs on %s: %w", tmp, err)
			return
		}
		for _, dir := range overlaid {
			up, work := filepath.Join(tmp, dir, "upper"), filepath.Join(tmp, dir, "work")
			if err = os.MkdirAll(up, 0o755); err != nil {
				return
			}
			if err = os.MkdirAll(work, 0o755); err != nil {
				return
			}
			opts := "lowerdir=" + dir + ",upperdir=" + up + ",workdir=" + work
			if err = syscall.Mount("overlay", dir, "overlay", 0, opts); err != nil {
				err = fmt.Errorf("overlay on %s: %w", dir, err)
				return
			}
		}
		// Maintainer scripts talk to systemd only when it runs; the
		// machine's systemd must not hear from them.
		if _, e := os.Stat("/run/systemd/system"); e == nil {
			err = syscall.Mount("prestaged-isolated", "/run/systemd", "tmpfs", 0, "mode=0755")
		}
	})
	return err
}

// parentArtifacts are the packages the parent process built, so the child
// need not build them again.
func parentArtifacts() (built, bool) {
	f := strings.Split(os.Getenv(artifactsEnv), ",")
	if len(f) != 3 {
		return built{}, false
	}
	return built{binary: f[0], deb: f[1], rpm: f[2]}, true
}

// machineState is what an install on the machine itself would change: the
// package databases and prestaged's own directories, as one digest.
func machineState(t *testing.T) string {
	t.Helper()
	h := sha256.New()
	for _, p := range []string{"/var/lib/dpkg/status", "/var/lib/rpm", "/etc/prestaged", "/usr/bin/prestaged", "/var/lib/prestaged"} {
		_ = filepath.Walk(p, func(path string, fi os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			fmt.Fprintf(h, "%s %v %d\n", path, fi.Mode(), fi.Size())
			if fi.Mode().IsRegular() && fi.Size() <= 16<<20 {
				if f, err := os.Open(path); err == nil {
					_, _ = io.Copy(h, f)
					f.Close()
				}
			}
			return nil
		})
	}
	return hex.EncodeToString(h.Sum(nil))
}
