package main_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

func requireRoot(t *testing.T) { t.Helper(); testutil.NeedRoot(t) }

// mountTmpfs mounts a tmpfs of size (as mount's "size=") at dir until the
// test ends.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		testutil.Unavailable(t, "mount tmpfs: "+err.Error())
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}
