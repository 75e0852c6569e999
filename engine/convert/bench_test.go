package convert

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prestaged/prestaged/spec"
)

// diskLike is n bytes shaped like a filesystem image: runs of text-like
// data (compressible, as files are) between runs of zeros (free space).
func diskLike(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	words := [][]byte{[]byte("prestaged "), []byte("image "), []byte("\x7fELF\x02\x01"), []byte("usr/share/doc "), []byte("0123456789 ")}
	for off := 0; off < n; {
		run := min(n-off, 256<<10+r.IntN(1<<20))
		if r.IntN(2) == 0 {
			for i := off; i < off+run; {
				i += copy(b[i:off+run], words[r.IntN(len(words))])
				if r.IntN(8) == 0 && i < off+run {
					b[i] = byte(r.Uint32())
					i++
				}
			}
		}
		off += run
	}
	return b
}

// BenchmarkZstToRaw installs a zstd-published disk as raw (decompress and
// write sparse) and, as the baseline in the same run, copies the raw disk
// as a published-raw install would; it reports the first's time as a ratio
// of the second's, and the bytes the zstd file saves on the wire.
func BenchmarkZstToRaw(b *testing.B) {
	raw := diskLike(256 << 20)
	dir := b.TempDir()
	rawPath := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
		b.Fatal(err)
	}
	var zbuf bytes.Buffer
	w, _ := zstd.NewWriter(&zbuf, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	w.Write(raw)
	w.Close()
	zstPath := filepath.Join(dir, "disk.img.zst")
	if err := os.WriteFile(zstPath, zbuf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	var tCopy, tZst time.Duration
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		t0 := time.Now()
		copyFile(b, rawPath, filepath.Join(dir, "copy"))
		tCopy += time.Since(t0)
		t0 = time.Now()
		dst, err := os.Create(filepath.Join(dir, "out"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Run(context.Background(), Job{Src: zstPath, From: spec.FormatZstd, Name: "disk.img.zst", To: spec.FormatRaw, Dst: dst}); err != nil {
			b.Fatal(err)
		}
		dst.Sync()
		dst.Close()
		tZst += time.Since(t0)
	}
	b.ReportMetric(float64(tZst)/float64(tCopy), "zst-install/raw-copy")
	b.ReportMetric(float64(zbuf.Len())/float64(len(raw)), "wire-bytes/raw")
}

func copyFile(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	out.Sync()
}
