package digest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"testing"

	"github.com/prestaged/prestaged/digest"
)

func sumStd(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// BenchmarkSHA256 compares the hashing seam (digest.New, minio/sha256-simd)
// with crypto/sha256. Compare the MB/s columns of seam and crypto for the
// same size; since Go 1.21 crypto/sha256 uses SHA-NI too, so a ratio near 1
// is expected on such CPUs and the seam wins only on AVX-512 ones.
func BenchmarkSHA256(b *testing.B) {
	impls := []struct {
		name string
		new  func() hash.Hash
	}{
		{"seam", func() hash.Hash { return digest.New(digest.SHA256) }},
		{"crypto", sha256.New},
	}
	for _, size := range []int{1 << 20, 64 << 20} {
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		for _, impl := range impls {
			b.Run(fmt.Sprintf("%dMiB/%s", size>>20, impl.name), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					h := impl.new()
					h.Write(buf)
					h.Sum(nil)
				}
			})
		}
	}
}

// TestSeamMatchesCrypto: whatever implementation the seam uses, its sums are
// crypto/sha256's, including across block boundaries and split writes.
func TestSeamMatchesCrypto(t *testing.T) {
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 1000, 1 << 16} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i*31 + 3)
		}
		h := digest.New(digest.SHA256)
		h.Write(buf[:n/3])
		h.Write(buf[n/3:])
		if got, want := digest.Sum(digest.SHA256, h).Hex(), sumStd(buf); got != want {
			t.Errorf("%d bytes: seam %s, crypto %s", n, got, want)
		}
	}
}
