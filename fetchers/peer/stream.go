package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prestaged/prestaged/digest"
	"golang.org/x/time/rate"
)

const (
	// limitChunk is the unit the upload limit is applied in: small enough
	// to share bandwidth fairly between children, large enough that a
	// limiter call per chunk costs nothing at 1 Gbit/s.
	limitChunk = 256 << 10
	// stallAfter: a wait this long for the content's next bytes (the
	// parent's own fetch is slow) counts as a stall in the metrics.
	stallAfter = time.Second
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// byteRange is the part of a blob one response sends.
type byteRange struct {
	start, n int64
	partial  bool // answer 206 with Content-Range
}

// parseRange reads an empty header or one range "bytes=N-", "bytes=N-M" or
// "bytes=-N" (the last N bytes) against a blob of size bytes.
func parseRange(h string, size int64) (byteRange, error) {
	if h == "" {
		return byteRange{start: 0, n: size}, nil
	}
	spec, ok := strings.CutPrefix(h, "bytes=")
	first, last, dash := strings.Cut(spec, "-")
	if !ok || !dash || strings.Contains(spec, ",") {
		return byteRange{}, fmt.Errorf("unsupported range %q: want bytes=N-[M]", h)
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 {
			return byteRange{}, fmt.Errorf("bad range %q", h)
		}
		n = min(n, size)
		return byteRange{start: size - n, n: n, partial: true}, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 || start >= size {
		return byteRange{}, fmt.Errorf("range %q outside the blob's %d bytes", h, size)
	}
	end := size - 1
	if last != "" {
		e, err := strconv.ParseInt(last, 10, 64)
		if err != nil || e < start {
			return byteRange{}, fmt.Errorf("bad range %q", h)
		}
		end = min(e, end)
	}
	return byteRange{start: start, n: end - start + 1, partial: true}, nil
}

// stream sends rng of d from rc. The first bytes are read before the status
// line is written, so content that turns out to be missing still gets a
// 503; after that, a failure aborts the response (the child sees a
// truncated body, never a clean end).
func (s *Server) stream(w http.ResponseWriter, r *http.Request, d digest.Digest, rng byteRange, size int64, rc io.Reader) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	src := io.LimitReader(rc, rng.n)
	n, err := s.read(src, buf)
	if n == 0 && rng.n > 0 {
		s.log.Info("peer: nothing to send yet", "digest", d.Short(), "offset", rng.start, "err", err)
		s.notYet(w, d)
		return
	}
	s.writeHeader(w, rng, size)
	rc2 := http.NewResponseController(w)
	var sent int64
	if nw, ok := rc.(NWriterTo); ok && s.limiter.Limit() == rate.Inf && n > 0 {
		if werr := s.send(r.Context(), w, buf[:n]); werr != nil {
			return
		}
		s.zeroCopy(w, d, rng, int64(n), nw)
		return
	}
	for {
		if n > 0 {
			if werr := s.send(r.Context(), w, buf[:n]); werr != nil {
				return // the child went away
			}
			sent += int64(n)
			rc2.Flush()
		}
		if sent == rng.n {
			return
		}
		if err != nil {
			s.abort(d, rng.start+sent, err)
		}
		n, err = s.read(src, buf)
	}
}

// zeroCopy sends the rest of rng after the first sent bytes by handing the
// connection file ranges: with no upload limit to pace, the kernel copies
// page cache to socket (sendfile) and serving costs little CPU.
func (s *Server) zeroCopy(w http.ResponseWriter, d digest.Digest, rng byteRange, sent int64, nw NWriterTo) {
	m, err := nw.WriteNTo(countingWriter{w: w, s: s}, rng.n-sent)
	var ce interface{ ContentFailed() bool }
	if err != nil && errors.As(err, &ce) && ce.ContentFailed() {
		s.abort(d, rng.start+sent+m, err)
	}
	// Any other error is the child's: it went away.
}

// countingWriter counts served bytes; it keeps the ResponseWriter's
// ReadFrom, which is what lets net/http use sendfile.
type countingWriter struct {
	w http.ResponseWriter
	s *Server
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.count(n)
	return n, err
}

func (c countingWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(c.w, r)
	c.count(int(n))
	return n, err
}

func (c countingWriter) count(n int) {
	c.s.served.Add(int64(n))
	c.s.m.bytes.Add(float64(n))
}

// read is one Read of the content; a long wait counts as a stall.
func (s *Server) read(src io.Reader, buf []byte) (int, error) {
	t := time.Now()
	n, err := src.Read(buf)
	if time.Since(t) >= stallAfter {
		s.m.stalls.Inc()
	}
	return n, err
}

func (s *Server) writeHeader(w http.ResponseWriter, rng byteRange, size int64) {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Length", strconv.FormatInt(rng.n, 10))
	code := http.StatusOK
	if rng.partial {
		code = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.start, rng.start+rng.n-1, size))
	}
	s.m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	w.WriteHeader(code)
}

// send writes p, in limitChunk pieces through the shared upload limiter
// when one is set.
func (s *Server) send(ctx context.Context, w io.Writer, p []byte) error {
	limited := s.limiter.Limit() != rate.Inf
	for len(p) > 0 {
		k := len(p)
		if limited {
			k = min(k, limitChunk)
			if err := s.limiter.WaitN(ctx, k); err != nil {
				return err
			}
		}
		m, err := w.Write(p[:k])
		s.served.Add(int64(m))
		s.m.bytes.Add(float64(m))
		if err != nil {
			return err
		}
		p = p[k:]
	}
	return nil
}

// abort ends a response whose content failed mid-stream: net/http closes
// the connection without finishing the body.
func (s *Server) abort(d digest.Digest, at int64, err error) {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	s.m.aborted.Inc()
	s.log.Warn("peer: stream aborted", "digest", d.Short(), "at", at, "err", err)
	panic(http.ErrAbortHandler)
}
