package testutil

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/prestaged/prestaged/digest"
)

// Image is n pseudo-random bytes, the same for the same n and seed, and
// their sha256: an image for a test to stage, fetch or install.
func Image(t testing.TB, n int, seed uint64) ([]byte, digest.Digest) {
	t.Helper()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	d, _, err := digest.Of(digest.SHA256, bytes.NewReader(b))
	Must(t, err)
	return b, d
}
