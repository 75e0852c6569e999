package trust

import (
	"errors"
	"fmt"
)

// maxBERDepth bounds nesting; real PKCS#7 signatures nest about 12 deep.
const maxBERDepth = 64

// checkBER walks b as BER in one linear pass, the way pkcs7's BER-to-DER
// converter will, and refuses what would make that converter run for
// exponential time or recurse without bound: an element that overruns its
// parent (the converter then re-parses the same bytes at every level) or
// deep nesting. A list server must not be able to hang a host.
func checkBER(b []byte) error {
	if _, err := berElement(b, 0, 0); err != nil {
		return fmt.Errorf("%w: PKCS#7: %w", ErrMalformed, err)
	}
	return nil
}

func berElement(b []byte, off, depth int) (int, error) {
	if depth > maxBERDepth {
		return 0, errors.New("BER nested too deep")
	}
	if off+2 > len(b) {
		return 0, errors.New("BER element truncated")
	}
	tag := b[off]
	off++
	if tag&0x1f == 0x1f { // high tag number form
		for off < len(b) && b[off] >= 0x80 {
			off++
		}
		off++
	}
	if off >= len(b) {
		return 0, errors.New("BER element truncated")
	}
	constructed := tag&0x20 != 0
	l := b[off]
	off++
	if l == 0x80 {
		if !constructed {
			return 0, errors.New("indefinite length on a primitive BER element")
		}
		return berIndefinite(b, off, depth)
	}
	length := int(l)
	if l > 0x80 {
		n := int(l & 0x7f)
		if n > 4 || off+n > len(b) || b[off] == 0 {
			return 0, errors.New("bad BER length")
		}
		length = 0
		for range n {
			length = length<<8 | int(b[off])
			off++
		}
	}
	if length < 0 || length > len(b)-off {
		return 0, errors.New("BER length beyond the data")
	}
	end := off + length
	if !constructed {
		return end, nil
	}
	for off < end {
		var err error
		if off, err = berElement(b, off, depth+1); err != nil {
			return 0, err
		}
	}
	if off != end {
		return 0, errors.New("BER element overruns its parent")
	}
	return end, nil
}

// berIndefinite reads children up to the end-of-contents octets. Like the
// pkcs7 converter it reads one child before looking for them.
func berIndefinite(b []byte, off, depth int) (int, error) {
	for {
		var err error
		if off, err = berElement(b, off, depth+1); err != nil {
			return 0, err
		}
		if len(b)-off < 2 {
			return 0, errors.New("BER indefinite length without end-of-contents")
		}
		if b[off] == 0 && b[off+1] == 0 {
			return off + 2, nil
		}
	}
}
