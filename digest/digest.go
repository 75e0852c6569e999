// Package digest names content: a Digest is an algorithm and a hex value,
// parsed once and valid by construction. It also owns the one seam through
// which prestaged hashes bytes (New), so the implementation can be swapped and
// benchmarked in one place.
//
// digest is a leaf: it imports nothing of prestaged, and every other package
// may import it.
package digest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Algo is a supported hash algorithm.
type Algo string

const (
	SHA256 Algo = "sha256"
	SHA512 Algo = "sha512"
)

// HexLen is the length of a digest's hex form for the algorithm.
func (a Algo) HexLen() int {
	switch a {
	case SHA256:
		return 64
	case SHA512:
		return 128
	}
	return 0
}

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid digest")

// Digest is an algorithm and the lowercase hex of a hash. The zero value is
// "no digest" (IsZero).
type Digest struct {
	algo Algo
	hex  string
}

// Parse reads "<hex>" (taken as sha256 or sha512 by length) or "<algo>:<hex>".
func Parse(s string) (Digest, error) {
	algo, h, found := strings.Cut(s, ":")
	if !found {
		h, algo = s, ""
		switch len(h) {
		case 64:
			algo = string(SHA256)
		case 128:
			algo = string(SHA512)
		}
	}
	return FromHex(Algo(algo), h)
}

// FromHex builds a Digest from an algorithm and its hex value.
func FromHex(a Algo, h string) (Digest, error) {
	if a.HexLen() == 0 {
		return Digest{}, fmt.Errorf("%w: unknown algorithm %q (want sha256 or sha512)", ErrInvalid, a)
	}
	if len(h) != a.HexLen() {
		return Digest{}, fmt.Errorf("%w: %s needs %d hex digits, got %d", ErrInvalid, a, a.HexLen(), len(h))
	}
	h = strings.ToLower(h)
	if _, err := hex.DecodeString(h); err != nil {
		return Digest{}, fmt.Errorf("%w: %q is not hexadecimal", ErrInvalid, h)
	}
	return Digest{algo: a, hex: h}, nil
}

// MustParse is Parse for tests and constants; it panics on bad input.
func MustParse(s string) Digest {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d Digest) Algo() Algo     { return d.algo }
func (d Digest) Hex() string    { return d.hex }
func (d Digest) IsZero() bool   { return d.algo == "" }
func (d Digest) String() string { return string(d.algo) + ":" + d.hex }

// Short is the first 12 hex digits, for log lines.
func (d Digest) Short() string {
	if len(d.hex) < 12 {
		return d.hex
	}
	return d.hex[:12]
}

// Path is "<algo>/<hex>", the relative form used by the store and the peer
// protocol. It is built only from a validated Digest, never from a request.
func (d Digest) Path() string { return string(d.algo) + "/" + d.hex }

// MarshalText and UnmarshalText make Digest usable in JSON as "<algo>:<hex>".
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Digest) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
