package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

// TestCopyBufferedAfterHoleLookup: the buffered copy (another filesystem,
// where copy_file_range fails) reads the same bytes whatever the source's
// file position, which looking for holes moves to the end.
func TestCopyBufferedAfterHoleLookup(t *testing.T) {
	want := make([]byte, 3<<20)
	rand.Read(want)
	dir := t.TempDir()
	srcPath := filepath.Join(dir, "src")
	if err := os.WriteFile(srcPath, want, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(dir, "dst"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := copyAt(src, dst, 2<<20, 1<<20); err != nil { // moves src's position
		t.Fatal(err)
	}
	if err := copyBuffered(context.Background(), src, dst, 0, 2<<20); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst.Name())
	if !bytes.Equal(got, want) {
		t.Fatalf("copied %d bytes, not the source's %d", len(got), len(want))
	}
}
