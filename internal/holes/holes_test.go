package holes

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteAtLeavesZeroPagesOut: the file reads back as p, its zero pages
// take no room, and the data between is written whole.
func TestWriteAtLeavesZeroPagesOut(t *testing.T) {
	p := make([]byte, 64*Page+100)
	copy(p[10*Page:], bytes.Repeat([]byte{1}, 3*Page+7))
	copy(p[40*Page+5:], []byte("data"))
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, last, err := WriteAt(f, p, 0)
	if err != nil || n != len(p) {
		t.Fatalf("WriteAt = %d, %v", n, err)
	}
	if want := int64(len(p)); last != want { // the tail is not a whole page: written
		t.Errorf("last = %d, want %d", last, want)
	}
	if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got, p) {
		t.Fatalf("reads back differently")
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil || st.Blocks*512 > 8*Page {
		t.Errorf("%d bytes allocated for 3 pages of data (%v)", st.Blocks*512, err)
	}
}
