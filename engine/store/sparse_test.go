package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
)

// holeSize is a run of zeros the tests expect to stay a hole.
const holeSize = 64 << 10

// TestSparseInstall: the blob of a mostly-zero image keeps only its data
// allocated, and so do its installs, which read back the same and get the
// mode and owner asked for.
func TestSparseInstall(t *testing.T) {
	image := make([]byte, 4<<20)
	copy(image[holeSize:], bytes.Repeat([]byte("data"), holeSize/4))
	d, _, err := digest.Of(digest.SHA256, bytes.NewReader(image))
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	b := committed(t, s, image, d)
	var bst syscall.Stat_t
	if err := syscall.Stat(b.Path, &bst); err != nil || bst.Blocks*512 > 4*holeSize || bst.Size != int64(len(image)) {
		t.Fatalf("blob: %d bytes allocated of %d (%v)", bst.Blocks*512, bst.Size, err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		opt    store.Options
		maxUse int64
	}{
		{"sparse", store.Options{Mode: 0o600, Owner: &store.Owner{UID: 4321, GID: -1}}, 4 * holeSize},
		{"copy of a sparse blob", store.Options{}, 4 * holeSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".img")
			if _, err := store.Install(context.Background(), b, path, tc.opt); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, image) {
				t.Fatalf("install differs from the image (%v)", err)
			}
			var st syscall.Stat_t
			if err := syscall.Stat(path, &st); err != nil {
				t.Fatal(err)
			}
			if used := st.Blocks * 512; used > tc.maxUse {
				t.Errorf("%d bytes allocated, want at most %d", used, tc.maxUse)
			}
			wantMode, wantUID := uint32(store.DefaultMode), uint32(os.Getuid())
			if tc.opt.Mode != 0 {
				wantMode, wantUID = uint32(tc.opt.Mode), 4321
			}
			if st.Mode&0o7777 != wantMode || st.Uid != wantUID {
				t.Errorf("mode %o uid %d, want %o %d", st.Mode&0o7777, st.Uid, wantMode, wantUID)
			}
		})
	}
}

// TestStagingSmallWritesStaySparse: zeros written in small buffers, as a
// network source writes them, leave the staging file and its blob sparse.
func TestStagingSmallWritesStaySparse(t *testing.T) {
	image := make([]byte, 8<<20)
	copy(image[3<<20:], bytes.Repeat([]byte{7}, 100<<10))
	d, _, err := digest.Of(digest.SHA256, bytes.NewReader(image))
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	w := stage(t, s, d, len(image))
	for off := 0; off < len(image); off += 32 << 10 {
		if _, err := w.Write(image[off : off+32<<10]); err != nil {
			t.Fatal(err)
		}
	}
	b, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(b.Path, &st); err != nil || st.Blocks*512 > 256<<10 || st.Size != int64(len(image)) {
		t.Fatalf("blob: %d bytes allocated of %d (%v)", st.Blocks*512, st.Size, err)
	}
	if got, _ := os.ReadFile(b.Path); !bytes.Equal(got, image) {
		t.Errorf("the blob reads back differently")
	}
}
