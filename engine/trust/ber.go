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
	off, constructed, length, err := berHeader(b, off)
	switch {
	case err != nil:
		return 0, err
	case length < 0 && !constructed:
		return 0, errors.New("indefinite length on a primitive BER element")
	case length < 0:
		return berIndefinite(b, off, depth)
	case !constructed:
		return off + length, nil
	}
	end := off + length
	for off < end {
		if off, err = berElement(b, off, depth+1); err != nil {
			return 0, err
		}
	}
	if off != end {
		return 0, errors.New("BER element overruns its parent")
	}
	return end, nil
}

// berHeader reads an element's tag and length as pkcs7's converter does;
// length is -1 for the indefinite form.
func berHeader(b []byte, off int) (contents int, constructed bool, length int, err error) {
	if off+2 > len(b) {
		return 0, false, 0, errors.New("BER element truncated")
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
		return 0, false, 0, errors.New("BER element truncated")
	}
	l := b[off]
	off++
	switch {
	case l == 0x80:
		return off, tag&0x20 != 0, -1, nil
	case l < 0x80:
		length = int(l)
	default:
		n := int(l & 0x7f)
		if n > 4 || off+n > len(b) || b[off] == 0 {
			return 0, false, 0, errors.New("bad BER length")
		}
		for range n {
			length = length<<8 | int(b[off])
			off++
		}
	}
	if length > len(b)-off {
		return 0, false, 0, errors.New("BER length beyond the data")
	}
	return off, tag&0x20 != 0, length, nil
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
