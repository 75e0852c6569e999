package store

import (
	"bytes"
	"context"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// HoleSize is the smallest run of zeros, aligned, that a sparse install
// leaves as a hole.
const HoleSize = 64 << 10

// zeroBlock is compared against, never written.
var zeroBlock [HoleSize]byte

// punchZeros turns every aligned HoleSize block of zeros in the first size
// bytes of f into a hole, and reports whether it punched any. A filesystem
// that cannot punch holes keeps the zeros: they read the same.
func punchZeros(ctx context.Context, f *os.File, size int64) bool {
	buf := make([]byte, 16*HoleSize)
	var run, runAt int64 // the zero blocks not yet punched
	punched := false
	punch := func() bool {
		if run == 0 {
			return true
		}
		err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, runAt, run)
		punched = punched || err == nil
		run = 0
		return err == nil
	}
	for off := int64(0); off < size; {
		if ctx.Err() != nil {
			return punched
		}
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		for i := 0; i+HoleSize <= n; i += HoleSize {
			if !bytes.Equal(buf[i:i+HoleSize], zeroBlock[:]) {
				if !punch() {
					return punched
				}
				continue
			}
			if run == 0 {
				runAt = off + int64(i)
			}
			run += HoleSize
		}
		if err != nil && err != io.EOF || n == 0 {
			break
		}
		off += int64(n)
	}
	punch()
	return punched
}

// writeSkippingZeros writes p at off to f, leaving out the aligned HoleSize
// blocks of zeros, which must read as zeros already (a hole, or past the
// end). It returns the bytes taken and the end of the last one written.
func writeSkippingZeros(f *os.File, p []byte, off int64) (int, int64, error) {
	done, last := 0, off
	for done < len(p) {
		at := off + int64(done)
		n := min(len(p)-done, int(HoleSize-at%HoleSize))
		block := p[done : done+n]
		if n < HoleSize || !bytes.Equal(block, zeroBlock[:]) {
			m, err := f.WriteAt(block, at)
			if m > 0 {
				last = at + int64(m)
			}
			if err != nil {
				return done + m, last, err
			}
		}
		done += n
	}
	return done, last, nil
}
