// Package holes writes bytes to a file leaving its aligned pages of zeros
// out, so that they stay holes: a disk image's free space takes no room in
// the store or at its install path.
package holes

import (
	"bytes"
	"io"
)

// Page is the granule of a hole: writers use buffers of any size, and a
// filesystem allocates by the page.
const Page = 4 << 10

// zeroPage is compared against, never written.
var zeroPage [Page]byte

// WriteAt writes p at off to w, leaving out the aligned pages of zeros,
// which must read as zeros there already (a hole, or past the end); the
// bytes between are written in as few calls as they allow. It returns the
// bytes of p taken and the end of the last byte written (off when none).
func WriteAt(w io.WriterAt, p []byte, off int64) (int, int64, error) {
	last := off
	start := 0                            // where the bytes still to write begin
	flush := func(end int) (int, error) { // how much of p has landed
		if end <= start {
			return end, nil
		}
		m, err := w.WriteAt(p[start:end], off+int64(start))
		if m > 0 {
			last = off + int64(start+m)
		}
		return start + m, err
	}
	for i := 0; i < len(p); {
		n := min(len(p)-i, int(Page-(off+int64(i))%Page))
		if n == Page && bytes.Equal(p[i:i+n], zeroPage[:]) {
			if done, err := flush(i); err != nil {
				return done, last, err
			}
			start = i + n
		}
		i += n
	}
	done, err := flush(len(p))
	return done, last, err
}
