package store

import (
	"bytes"
	"context"
	"io"
	"os"
	"syscall"

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

// pageSize is the granule of a staging file's holes: sources write in
// buffers of any size, and a filesystem allocates by the page.
const pageSize = 4 << 10

// writeSkippingZeros writes p at off to f, leaving out the aligned pages
// of zeros, which must read as zeros already (a hole, or past the end); the
// bytes between are written in as few calls as they allow. It returns the
// bytes taken and the end of the last one written.
func writeSkippingZeros(f *os.File, p []byte, off int64) (int, int64, error) {
	last := off
	start := 0                            // of the run of bytes to write
	flush := func(end int) (int, error) { // how much of p has landed
		if end <= start {
			return end, nil
		}
		m, err := f.WriteAt(p[start:end], off+int64(start))
		if m > 0 {
			last = off + int64(start+m)
		}
		return start + m, err
	}
	for i := 0; i < len(p); {
		n := min(len(p)-i, int(pageSize-(off+int64(i))%pageSize))
		if n == pageSize && bytes.Equal(p[i:i+n], zeroBlock[:pageSize]) {
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

// Allocation is the apparent size of the regular file at path and the
// bytes it takes on disk; zeros when it is not there.
func Allocation(path string) (size, allocated int64) {
	fi, err := LstatRegular(path)
	if err != nil {
		return 0, 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		allocated = st.Blocks * 512
	}
	return fi.Size(), allocated
}
