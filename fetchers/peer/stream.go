package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prestaged/prestaged/digest"
	"golang.org/x/time/rate"
)

const (
	// limitChunk is the unit the upload limit and the write deadline are
	// applied in: small enough to share bandwidth fairly between children
	// and to tell a child that stopped reading from one that reads, large
	// enough that a call per chunk costs nothing at 1 Gbit/s.
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
// truncated body, never a clean end). Each write may block for at most
// stall (see SetStallTimeout); waits for the content do not count.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, d digest.Digest, rng byteRange, size int64, rc io.Reader, stall time.Duration) {
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
	pr := newWriteDeadline(w, stall)
	var sent int64
	if nw, ok := rc.(NWriterTo); ok && s.limiter.Limit() == rate.Inf && n > 0 {
		if werr := s.send(r.Context(), w, pr, buf[:n]); werr != nil {
			return
		}
		s.zeroCopy(w, pr, d, rng, int64(n), nw)
		return
	}
	for {
		if n > 0 {
			if werr := s.send(r.Context(), w, pr, buf[:n]); werr != nil {
				return // the child went away, or stopped reading
			}
			sent += int64(n)
			pr.renew()
			pr.rc.Flush()
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
func (s *Server) zeroCopy(w http.ResponseWriter, pr writeDeadline, d digest.Digest, rng byteRange, sent int64, nw NWriterTo) {
	m, err := nw.WriteNTo(countingWriter{w: w, s: s, pr: pr}, rng.n-sent)
	var ce interface{ ContentFailed() bool }
	if err != nil && errors.As(err, &ce) && ce.ContentFailed() {
		s.abort(d, rng.start+sent+m, err)
	}
	// Any other error is the child's: it went away or stopped reading.
}

// writeDeadline renews a response's write deadline: each write to a child
// must finish within the stall timeout of its start.
type writeDeadline struct {
	rc    *http.ResponseController
	stall time.Duration
}

func newWriteDeadline(w http.ResponseWriter, stall time.Duration) writeDeadline {
	return writeDeadline{rc: http.NewResponseController(w), stall: stall}
}

// renew moves the deadline to the stall timeout from now. A writer without
// deadlines (a test recorder) is left as it is.
func (p writeDeadline) renew() {
	if p.stall > 0 {
		_ = p.rc.SetWriteDeadline(time.Now().Add(p.stall))
	}
}

// countingWriter counts served bytes and renews the write deadline per
// chunk; it keeps the ResponseWriter's ReadFrom, which is what lets
// net/http use sendfile.
type countingWriter struct {
	w  http.ResponseWriter
	s  *Server
	pr writeDeadline
}

func (c countingWriter) Write(p []byte) (int, error) {
	c.pr.renew()
	n, err := c.w.Write(p)
	c.count(n)
	return n, err
}

// ReadFrom copies r in limitChunk pieces, renewing the deadline before
// each. A piece is an io.LimitedReader over r's own reader (an *os.File
// under an io.LimitedReader stays one), so sendfile still applies.
func (c countingWriter) ReadFrom(r io.Reader) (int64, error) {
	src, left := r, int64(math.MaxInt64)
	lr, limited := r.(*io.LimitedReader)
	if limited {
		src, left = lr.R, lr.N
	}
	var total int64
	for left > 0 {
		k := min(left, limitChunk)
		c.pr.renew()
		n, err := io.Copy(c.w, &io.LimitedReader{R: src, N: k})
		total, left = total+n, left-n
		if limited {
			lr.N = left
		}
		c.count(int(n))
		if err != nil || n < k {
			return total, err
		}
	}
	return total, nil
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

// send writes p in limitChunk pieces, each through the shared upload
// limiter when one is set and each under a renewed write deadline.
func (s *Server) send(ctx context.Context, w io.Writer, pr writeDeadline, p []byte) error {
	limited := s.limiter.Limit() != rate.Inf
	for len(p) > 0 {
		k := min(len(p), limitChunk)
		if limited {
			if err := s.limiter.WaitN(ctx, k); err != nil {
				return err
			}
		}
		pr.renew()
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
