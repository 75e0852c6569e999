package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/prestaged/prestaged/fetchers"
)

// bufSize is the copy buffer: large enough that a 10 GB image costs ten
// thousand writes into the hashing staging file, not a million.
const bufSize = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// copyBody discards skip bytes of r, then writes exactly want bytes of it to
// dst, reading straight into one pooled buffer. A source ending early is
// ErrTooShort (retryable); one with bytes left over is ErrTooLong
// (permanent), and nothing beyond want is ever written.
func copyBody(ctx context.Context, dst io.Writer, r io.Reader, skip, want int64) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	if err := readN(ctx, io.Discard, r, skip, buf); err != nil {
		return fmt.Errorf("skipping %d bytes a server sent again: %w", skip, err)
	}
	if err := readN(ctx, dst, r, want, buf); err != nil {
		return err
	}
	// The body must end here. With a known length this read returns EOF at
	// once; a longer body is a source lying about the image.
	if n, _ := r.Read(buf[:1]); n > 0 {
		return fetchers.Permanentf("source sent more than the %d bytes expected: %w", want, fetchers.ErrTooLong)
	}
	return nil
}

// readN copies exactly n bytes from r to w through buf, checking ctx between
// reads.
func readN(ctx context.Context, w io.Writer, r io.Reader, n int64, buf []byte) error {
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := r.Read(buf[:min(int64(len(buf)), n-done)])
		if k > 0 {
			wk, werr := w.Write(buf[:k])
			done += int64(wk)
			if werr == nil && wk < k {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return fetchers.Permanentf("writing to staging after %d bytes: %w", done, werr)
			}
		}
		switch {
		case done == n:
			return nil
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("ended after %d of %d bytes: %w", done, n, fetchers.ErrTooShort)
		case err != nil:
			return fmt.Errorf("after %d of %d bytes: %w", done, n, err)
		}
	}
	return nil
}

// fetchFile copies from a file:// mirror, from dst.Offset() on.
func (m *Mirror) fetchFile(ctx context.Context, req fetchers.Request, segs []string, dst fetchers.Dst) error {
	f, p, err := m.openFile(ctx, req, segs)
	if err != nil {
		return err
	}
	defer f.Close()
	off := dst.Offset()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return m.fail(ctx, req, p, err)
	}
	if err := copyBody(ctx, dst, f, 0, req.Size-off); err != nil {
		return m.fail(ctx, req, p, err)
	}
	return nil
}

// openFile opens the image in a file:// mirror and checks it is a file of
// the image's size. Errors are m.fail's, naming the path.
func (m *Mirror) openFile(ctx context.Context, req fetchers.Request, segs []string) (*os.File, string, error) {
	p := filepath.Join(append([]string{m.dir}, segs...)...)
	f, err := os.Open(p)
	if err != nil {
		return nil, p, m.fail(ctx, req, p, classifyOpen(err))
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case fi.IsDir():
		err = fetchers.Permanentf("is a directory: %w", fetchers.ErrNotFound)
	default:
		err = checkLength(fi.Size(), req.Size)
	}
	if err != nil {
		f.Close()
		return nil, p, m.fail(ctx, req, p, err)
	}
	return f, p, nil
}

// classifyOpen: a missing file is ErrNotFound, a refused one permanent,
// anything else (an NFS hiccup) retryable.
func classifyOpen(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fetchers.Permanentf("%w: %v", fetchers.ErrNotFound, err)
	case errors.Is(err, fs.ErrPermission):
		return fetchers.Permanentf("refused; check the mirror's permissions: %w", err)
	}
	return err
}
