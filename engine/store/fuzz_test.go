package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/engine/store"
)

// FuzzLoadState: any state.json loads or is refused, never panics, and a
// state that loads survives a save and a load unchanged.
func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"version":1,"images":[{"name":"a","digest":"sha256:` + "ab" + `","install":"/i/a","file":{"size":1,"mtime":"2026-01-02T03:04:05Z","inode":7}}]}`))
	f.Add([]byte(`{"version":1,"images":[]}`))
	f.Add([]byte(`{"images":[{"name":"a"},{"name":"a"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		st, err := store.Open(filepath.Join(dir, "store"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "store", "state.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		s1, err := st.LoadState()
		if err != nil {
			return
		}
		if err := st.SaveState(s1); err != nil {
			t.Fatalf("saving a state that loaded: %v", err)
		}
		s2, err := st.LoadState()
		if err != nil {
			t.Fatalf("loading a state just saved: %v", err)
		}
		if diff := cmp.Diff(s1, s2, cmp.Comparer(func(a, b interface{ String() string }) bool { return a.String() == b.String() })); diff != "" {
			t.Fatalf("state changed in a save and load (-first +second):\n%s", diff)
		}
	})
}
