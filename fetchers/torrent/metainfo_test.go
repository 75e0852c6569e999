package torrent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/internal/testutil"
)

// content returns n deterministic pseudo-random bytes.
func content(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// writeImage writes data to a file named name in a new temporary directory.
func writeImage(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMakeMatchesMktorrent(t *testing.T) {
	mktorrent := testutil.Need(t, "mktorrent")
	tests := []struct {
		name     string
		size     int
		exponent int
	}{
		{"10MiB and a bit, 4MiB pieces", 10<<20 + 12345, 22},
		{"exact multiple of the piece", 8 << 20, 22},
		{"smaller than one piece", 1000, 22},
		{"256KiB pieces", 3<<20 + 1, 18},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := writeImage(t, "slc6-batch.img", content(tt.size, byte(i)))
			out := filepath.Join(t.TempDir(), "x.torrent")
			cmd := exec.Command(mktorrent, "-l", strconv.Itoa(tt.exponent), "-o", out, img)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("mktorrent: %v\n%s", err, b)
			}
			want, err := metainfo.LoadFromFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := MakeFile(context.Background(), img, "", 1<<tt.exponent)
			if err != nil {
				t.Fatal(err)
			}
			if InfoHash(got) != InfoHash(want) {
				t.Errorf("info-hash %s, mktorrent's %s\nours:  %q\ntheirs: %.200q",
					InfoHash(got), InfoHash(want), got.InfoBytes[:100], want.InfoBytes)
			}
		})
	}
}

func TestMakeIsDeterministic(t *testing.T) {
	data := content(5<<20+3, 7)
	var out [2]bytes.Buffer
	for i := range out {
		mi, err := Make(bytes.NewReader(data), int64(len(data)), "a.img", DefaultPieceLength)
		if err != nil {
			t.Fatal(err)
		}
		if err := mi.Write(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		t.Error("two Makes of the same bytes wrote different .torrent files")
	}
}

func TestMakeRejects(t *testing.T) {
	data := content(1<<20, 1)
	tests := []struct {
		name     string
		r        io.ReaderAt
		size     int64
		file     string
		pieceLen int64
		want     error // nil: any error
	}{
		{"piece not a power of two", bytes.NewReader(data), 1 << 20, "a.img", 3 << 20, ErrPieceLength},
		{"piece too small", bytes.NewReader(data), 1 << 20, "a.img", 1 << 13, ErrPieceLength},
		{"piece too large", bytes.NewReader(data), 1 << 20, "a.img", 1 << 27, ErrPieceLength},
		{"empty image", bytes.NewReader(nil), 0, "a.img", DefaultPieceLength, nil},
		{"name with a directory", bytes.NewReader(data), 1 << 20, "vm/a.img", DefaultPieceLength, nil},
		{"no name", bytes.NewReader(data), 1 << 20, "", DefaultPieceLength, nil},
		{"reader shorter than size", bytes.NewReader(data), 5 << 20, "a.img", DefaultPieceLength, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Make(tt.r, tt.size, tt.file, tt.pieceLen)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Make: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMakeContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := content(9<<20, 2)
	if _, err := MakeContext(ctx, bytes.NewReader(data), int64(len(data)), "a.img", DefaultPieceLength); !errors.Is(err, context.Canceled) {
		t.Errorf("MakeContext: %v, want context.Canceled", err)
	}
}
