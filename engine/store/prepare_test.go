package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/internal/testutil"
)

// prepared is the temporary copy beside path, the only file there but path.
func prepared(t *testing.T, path string) string {
	t.Helper()
	s := strays(t, path)
	if len(s) != 1 {
		t.Fatalf("want one temporary copy beside %s, found %v", path, s)
	}
	return filepath.Join(filepath.Dir(path), s[0])
}

// waitSize waits until the file at p holds n bytes.
func waitSize(t *testing.T, p string, n int64) {
	t.Helper()
	var got int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got = fi.Size(); got == n {
			return
		}
	}
	t.Fatalf("%s holds %d bytes, want %d", p, got, n)
}

// TestPrepareFollowsPrefix: the copy beside the install path takes the
// complete prefix as it grows, never bytes that landed beyond it, and
// Install completes it into the blob's bytes.
func TestPrepareFollowsPrefix(t *testing.T) {
	const quarter = 1 << 18
	content, d := image(t, 4*quarter, 21)
	s := openStore(t)
	w := stage(t, s, d, len(content))
	path := filepath.Join(t.TempDir(), "images", "vm.img")
	pre := w.Prepare(path)
	if pre == nil {
		testutil.Unavailable(t, "the test directory's filesystem clones files (XFS, btrfs): nothing is copied ahead")
	}
	tmp := prepared(t, path)

	if _, err := w.Write(content[:quarter]); err != nil {
		t.Fatal(err)
	}
	waitSize(t, tmp, quarter)
	// The third quarter lands out of order: it is not final until the
	// second joins the prefix.
	if _, err := w.WriteAt(content[2*quarter:3*quarter], 2*quarter); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * 100 * time.Millisecond) // five looks at the prefix
	waitSize(t, tmp, quarter)
	if _, err := w.WriteAt(content[quarter:2*quarter], quarter); err != nil {
		t.Fatal(err)
	}
	waitSize(t, tmp, 3*quarter)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the install path exists before the image is verified: %v", err)
	}

	if _, err := w.WriteAt(content[3*quarter:], 3*quarter); err != nil {
		t.Fatal(err)
	}
	b, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	id, err := pre.Install(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Errorf("install path holds %d bytes, not the image", len(got))
	}
	if got, _ := store.Identify(path); got != id {
		t.Errorf("Install returned %+v, Identify says %+v", id, got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("installed file: %v, mode %v; want a private 0644 copy", err, fi.Mode())
	}
	if s := strays(t, path); len(s) > 0 {
		t.Errorf("files left beside the install path: %v", s)
	}
}

// TestPrepareAbort: a fetch that fails leaves nothing beside the install
// path and the installed version in place.
func TestPrepareAbort(t *testing.T) {
	v1, d1 := image(t, 1<<16, 22)
	v2, d2 := image(t, 1<<18, 23)
	s := openStore(t)
	path := filepath.Join(t.TempDir(), "vm.img")
	if _, err := store.Install(context.Background(), committed(t, s, v1, d1), path); err != nil {
		t.Fatal(err)
	}
	w := stage(t, s, d2, len(v2))
	pre := w.Prepare(path)
	if pre == nil {
		testutil.Unavailable(t, "the test directory's filesystem clones files (XFS, btrfs): nothing is copied ahead")
	}
	if _, err := w.Write(v2[:len(v2)/2]); err != nil {
		t.Fatal(err)
	}
	waitSize(t, prepared(t, path), int64(len(v2)/2))
	pre.Abort()
	w.Abort()
	if got, _ := os.ReadFile(path); !bytes.Equal(got, v1) {
		t.Errorf("install path holds %d bytes, not the installed version", len(got))
	}
	if s := strays(t, path); len(s) > 0 {
		t.Errorf("files left beside the install path: %v", s)
	}
}
