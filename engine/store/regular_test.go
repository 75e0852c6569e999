package store_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/internal/testutil"
	"golang.org/x/sys/unix"
)

// planted is something other than a regular file put at a path prestaged
// reads or writes. plant returns the victim file a symlink points at ("" if
// none), whose content must survive.

// within runs f and fails the test if it has not returned after a
// generous bound: a blocking open of a FIFO never returns.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still blocked after 10 s")
	}
}

// refused checks that err is ErrNotRegular and names path.
func refused(t *testing.T, what string, err error, path string) {
	t.Helper()
	if !errors.Is(err, store.ErrNotRegular) || !testutil.ErrorContains(err, path) {
		t.Errorf("%s: %v, want %v naming %s", what, err, store.ErrNotRegular, path)
	}
}

// TestInstallRefusesNonRegular: prestaged installs only over regular files;
// a symlink, FIFO or directory at the install path is not renamed over.
func TestInstallRefusesNonRegular(t *testing.T) {
	content, d := testutil.Image(t, 1<<16, 20)
	for _, p := range testutil.Plants {
		t.Run(p.Name, func(t *testing.T) {
			s := openStore(t)
			b := committed(t, s, content, d)
			path := filepath.Join(t.TempDir(), "vm.img")
			victim := p.Plant(t, path)
			within(t, func() {
				_, err := store.Identify(path)
				refused(t, "Identify", err, path)
				_, err = store.Install(context.Background(), b, path, store.Options{})
				refused(t, "Install", err, path)
				gone, err := store.RemoveInstalled(path, store.FileID{})
				if gone || err != nil {
					t.Errorf("RemoveInstalled = %t, %v; want it left alone", gone, err)
				}
			})
			if fi, err := os.Lstat(path); err != nil || fi.Mode().IsRegular() {
				t.Errorf("install path replaced: %v %v", fi, err)
			}
			if s := strays(t, path); len(s) > 0 {
				t.Errorf("files left beside the install path: %v", s)
			}
			testutil.Untouched(t, victim)
		})
	}
}

// TestStoreRefusesNonRegular: what is planted at a staging, progress or
// blob path is refused by every reader and writer, never followed and never
// blocked on.
func TestStoreRefusesNonRegular(t *testing.T) {
	content, d := testutil.Image(t, 1<<16, 21)
	places := []struct {
		name string
		path func(s *store.Store) string
	}{
		{"staging", func(s *store.Store) string { return s.StagingPath(d) }},
		{"progress", func(s *store.Store) string { return s.ProgressPath(d) }},
		{"blob", func(s *store.Store) string { return s.BlobPath(d) }},
	}
	ctx := context.Background()
	for _, pl := range places {
		for _, p := range testutil.Plants {
			t.Run(pl.name+"/"+p.Name, func(t *testing.T) {
				s := openStore(t)
				path := pl.path(s)
				if pl.name == "progress" {
					w := stage(t, s, d, len(content))
					testutil.Must(t, writeAll(w, content[:100]))
					w.Abort()
				}
				victim := p.Plant(t, path)
				within(t, func() {
					if b, ok := s.Blob(d); ok {
						t.Errorf("Blob = %+v, want none", b)
					}
					_, err := s.Stage(ctx, d, int64(len(content)))
					refused(t, "Stage", err, path)
					_, err = s.Have(d)
					refused(t, "Have", err, path)
					refused(t, "Follow", followRead(ctx, s, d, len(content)), path)
				})
				testutil.Untouched(t, victim)
			})
		}
	}
}

// followRead opens d with Follow and reads a byte, as a peer server does.
func followRead(ctx context.Context, s *store.Store, d digest.Digest, size int) error {
	fl, err := s.Follow(ctx, d, int64(size), 0, store.FollowOptions{})
	if err != nil {
		return err
	}
	defer fl.Close()
	_, err = fl.Read(make([]byte, 1))
	return err
}

func writeAll(w *store.Staging, b []byte) error { _, err := w.Write(b); return err }

// TestFollowRefusesSwappedStaging: a staging file replaced by a symlink
// while a child is being served ends the read with ErrNotRegular.
func TestFollowRefusesSwappedStaging(t *testing.T) {
	content, d := testutil.Image(t, 1<<16, 22)
	s := openStore(t)
	w := stage(t, s, d, len(content))
	testutil.Must(t, writeAll(w, content[:100]))
	w.Abort()
	fl, err := s.Follow(context.Background(), d, int64(len(content)), 0, store.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	if _, err := io.ReadFull(fl, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	path := s.StagingPath(d)
	testutil.Must(t, os.Remove(path))
	testutil.Must(t, os.Symlink("/dev/zero", path))
	within(t, func() {
		_, err := fl.Read(make([]byte, 100))
		refused(t, "Read", err, path)
	})
}

// TestStateAndLockRefuseNonRegular: a FIFO at state.json or at the lock
// would hang every run; a symlink would be followed.
func TestStateAndLockRefuseNonRegular(t *testing.T) {
	for _, p := range testutil.Plants {
		t.Run(p.Name, func(t *testing.T) {
			s := openStore(t)
			state := filepath.Join(s.Root(), "state.json")
			lock := filepath.Join(s.Root(), "lock")
			victims := []string{p.Plant(t, state), p.Plant(t, lock)}
			within(t, func() {
				_, err := s.LoadState()
				refused(t, "LoadState", err, state)
				_, err = s.Lock(context.Background(), 0)
				refused(t, "Lock", err, lock)
			})
			for _, v := range victims {
				testutil.Untouched(t, v)
			}
		})
	}
}

// TestIdentifyFile: what an open file is identified as is what Identify
// says of its path, and a FIFO opened anyway is refused.
func TestIdentifyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	testutil.Must(t, os.WriteFile(p, []byte("x"), 0o644))
	f := mustOpen(t, p)
	got, err := store.IdentifyFile(f)
	if want, _ := store.Identify(p); err != nil || got != want {
		t.Errorf("IdentifyFile = %+v, %v; Identify says %+v", got, err, want)
	}
	fifo := filepath.Join(dir, "fifo")
	testutil.Must(t, unix.Mkfifo(fifo, 0o644))
	g, err := os.OpenFile(fifo, os.O_RDWR, 0) // O_RDWR: does not wait for a writer
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := store.IdentifyFile(g); !errors.Is(err, store.ErrNotRegular) {
		t.Errorf("IdentifyFile of a FIFO: %v, want %v", err, store.ErrNotRegular)
	}
}
