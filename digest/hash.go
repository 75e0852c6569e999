package digest

import (
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"

	sha256simd "github.com/minio/sha256-simd"
)

// New returns a hasher for the algorithm. This is the one seam through which
// prestaged hashes image bytes; BenchmarkSHA256 compares the chosen
// implementation (minio/sha256-simd, which uses SHA-NI or AVX-512 when the CPU
// has them) with crypto/sha256.
func New(a Algo) hash.Hash {
	switch a {
	case SHA512:
		return sha512.New()
	default:
		return sha256simd.New()
	}
}

// Sum is the Digest of what h has hashed, for h made by New(a).
func Sum(a Algo, h hash.Hash) Digest {
	return Digest{algo: a, hex: hex.EncodeToString(h.Sum(nil))}
}

// Of hashes everything r yields.
func Of(a Algo, r io.Reader) (Digest, int64, error) {
	h := New(a)
	n, err := io.CopyBuffer(h, r, make([]byte, 1<<20))
	if err != nil {
		return Digest{}, n, err
	}
	return Sum(a, h), n, nil
}
