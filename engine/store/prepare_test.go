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

// prepare starts w's copy ahead to path, where the filesystem does not
// clone files (then nothing is copied ahead).
func prepare(t *testing.T, w *store.Staging, path string) *store.Prepared {
	t.Helper()
	pre := w.Prepare(path)
	if pre == nil {
		testutil.Unavailable(t, "the test directory's filesystem clones files (XFS, btrfs): nothing is copied ahead")
	}
	return pre
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

// TestPrepareFollowsLanded: the copy beside the install path takes what
// lands, in order or not, and Install completes it into the blob's bytes.
func TestPrepareFollowsLanded(t *testing.T) {
	const quarter = 1 << 18
	content, d := testutil.Image(t, 4*quarter, 21)
	s := openStore(t)
	w := stage(t, s, d, len(content))
	path := filepath.Join(t.TempDir(), "images", "vm.img")
	pre := prepare(t, w, path)
	tmp := prepared(t, path)

	if _, err := w.Write(content[:quarter]); err != nil {
		t.Fatal(err)
	}
	waitSize(t, tmp, quarter)
	// The third quarter lands out of order, and is copied as it lands.
	if _, err := w.WriteAt(content[2*quarter:3*quarter], 2*quarter); err != nil {
		t.Fatal(err)
	}
	waitSize(t, tmp, 3*quarter)
	if _, err := w.WriteAt(content[quarter:2*quarter], quarter); err != nil {
		t.Fatal(err)
	}
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
	id, err := pre.Install(context.Background(), b, store.Options{})
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

// TestPrepareRewritten: bytes a source wrote again after they were copied
// ahead reach the install path as the last write left them, the bytes the
// digest was checked on: a mirror taking over from a swarm rewrites in
// order what the swarm landed beyond the prefix, and a second swarm fetch
// lands its pieces again.
func TestPrepareRewritten(t *testing.T) {
	const quarter = 1 << 18
	content, d := testutil.Image(t, 4*quarter, 24)
	stale := bytes.Repeat([]byte{0xee}, quarter)
	for _, c := range []struct {
		name    string
		rewrite func(w *store.Staging) error
	}{
		{"in order", func(w *store.Staging) error {
			_, err := w.Write(content[quarter:])
			return err
		}},
		{"out of order", func(w *store.Staging) error {
			for _, q := range []int{2, 3, 1} {
				if _, err := w.WriteAt(content[q*quarter:(q+1)*quarter], int64(q*quarter)); err != nil {
					return err
				}
			}
			return nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t)
			w := stage(t, s, d, len(content))
			path := filepath.Join(t.TempDir(), "vm.img")
			pre := prepare(t, w, path)
			tmp := prepared(t, path)
			if _, err := w.Write(content[:quarter]); err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteAt(stale, 2*quarter); err != nil {
				t.Fatal(err)
			}
			waitSize(t, tmp, 3*quarter) // the stale quarter is in the copy
			if err := c.rewrite(w); err != nil {
				t.Fatal(err)
			}
			b, err := w.Commit()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pre.Install(context.Background(), b, store.Options{}); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
				t.Errorf("install path holds other bytes than the verified image (stale quarter: %v)",
					bytes.Equal(got[2*quarter:3*quarter], stale))
			}
		})
	}
}

// TestPrepareAbort: a fetch that fails leaves nothing beside the install
// path and the installed version in place.
func TestPrepareAbort(t *testing.T) {
	v1, d1 := testutil.Image(t, 1<<16, 22)
	v2, d2 := testutil.Image(t, 1<<18, 23)
	s := openStore(t)
	path := filepath.Join(t.TempDir(), "vm.img")
	if _, err := store.Install(context.Background(), committed(t, s, v1, d1), path, store.Options{}); err != nil {
		t.Fatal(err)
	}
	w := stage(t, s, d2, len(v2))
	pre := prepare(t, w, path)
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
