package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/internal/testutil"
)

// committed stages content and commits it.
func committed(t *testing.T, s *store.Store, content []byte, d digest.Digest) store.Blob {
	t.Helper()
	w := stage(t, s, d, len(content))
	if _, err := w.Write(content); err != nil {
		t.Fatal(err)
	}
	b, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// strays lists files beside path that are not path: leftovers of an install.
func strays(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestInstallPrivateCopy: a VM writing to its installed image must not
// corrupt the blob peers serve.
func TestInstallPrivateCopy(t *testing.T) {
	content, d := testutil.Image(t, 1<<20, 10)
	s := openStore(t)
	b := committed(t, s, content, d)
	path := filepath.Join(t.TempDir(), "images", "vm.img")
	id, err := store.Install(context.Background(), b, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Identify(path); got != id {
		t.Errorf("Install returned %+v, Identify says %+v", id, got)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("installed file is not writable: %v", err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, 4096), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _, _ := digest.Of(digest.SHA256, mustOpen(t, b.Path)); got != d {
		t.Errorf("writing to the installed file changed the blob: %s", got)
	}
	if s := strays(t, path); len(s) > 0 {
		t.Errorf("files left beside the install path: %v", s)
	}
}

func mustOpen(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestInstallReplacesAtomically: the old file stays whole until the new one
// is renamed over it, and a cancelled install leaves it in place.
func TestInstallReplacesAtomically(t *testing.T) {
	v1, d1 := testutil.Image(t, 1<<20, 11)
	v2, d2 := testutil.Image(t, 2<<20, 12)
	tests := []struct {
		name   string
		cancel bool
		want   []byte
	}{
		{"completed", false, v2},
		{"cancelled", true, v1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			b1, b2 := committed(t, s, v1, d1), committed(t, s, v2, d2)
			path := filepath.Join(t.TempDir(), "vm.img")
			if _, err := store.Install(context.Background(), b1, path, store.Options{}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancel {
				cancel()
			}
			defer cancel()
			_, err := store.Install(ctx, b2, path, store.Options{})
			if (err != nil) != tt.cancel {
				t.Fatalf("Install: %v", err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, tt.want) {
				t.Errorf("install path holds %d bytes, not the expected version", len(got))
			}
			if s := strays(t, path); len(s) > 0 {
				t.Errorf("files left beside the install path: %v", s)
			}
		})
	}
}

func TestRemoveInstalled(t *testing.T) {
	content, d := testutil.Image(t, 4096, 13)
	tests := []struct {
		name     string
		meddle   func(t *testing.T, path string)
		wantGone bool
		wantFile bool
	}{
		{"still ours", func(*testing.T, string) {}, true, false},
		{"replaced by someone else", func(t *testing.T, path string) {
			tmp := path + ".new"
			if err := os.WriteFile(tmp, content, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, false, true},
		{"grown by its user", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("more"))
			f.Close()
		}, false, true},
		{"already gone", func(t *testing.T, path string) { os.Remove(path) }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			path := filepath.Join(t.TempDir(), "vm.img")
			id, err := store.Install(context.Background(), committed(t, s, content, d), path, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tt.meddle(t, path)
			gone, err := store.RemoveInstalled(path, id)
			if err != nil {
				t.Fatal(err)
			}
			if gone != tt.wantGone || exists(path) != tt.wantFile {
				t.Errorf("RemoveInstalled = %t, file exists = %t; want %t, %t", gone, exists(path), tt.wantGone, tt.wantFile)
			}
		})
	}
}

func TestBlobAndPrune(t *testing.T) {
	s := openStore(t)
	keep, dk := testutil.Image(t, 1000, 14)
	drop, dd := testutil.Image(t, 1000, 15)
	committed(t, s, keep, dk)
	committed(t, s, drop, dd)
	_, dp := testutil.Image(t, 1000, 16)
	w := stage(t, s, dp, 1000)
	w.Write(drop[:10])
	w.Abort()
	dot := filepath.Join(filepath.Dir(s.BlobPath(dk)), ".hidden")
	if err := os.WriteFile(dot, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(map[string]bool{dk.String(): true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Blob(dk); !ok {
		t.Error("Prune removed a kept blob")
	}
	if _, ok := s.Blob(dd); ok {
		t.Error("Prune kept an unwanted blob")
	}
	if exists(s.StagingPath(dp)) {
		t.Error("Prune kept an unwanted staging file")
	}
	if !exists(dot) {
		t.Error("Prune removed a dot file")
	}
	if b, ok := s.Blob(dk); !ok || b.Size != 1000 || !strings.HasSuffix(b.Path, dk.Hex()) {
		t.Errorf("Blob = %+v, %t", b, ok)
	}
}
