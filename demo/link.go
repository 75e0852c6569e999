package demo

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prestaged/prestaged/internal/safe"
	"golang.org/x/time/rate"
)

// link is a capped network link in the demo: everything written through it
// shares one token bucket, as the bytes leaving a host's NIC do.
type link struct{ lim *rate.Limiter }

// burst is small so the cap holds over short intervals too.
const linkBurst = 256 << 10

func newLink(bytesPerSecond int64) *link {
	return &link{lim: rate.NewLimiter(rate.Limit(bytesPerSecond), linkBurst)}
}

// writer throttles w by the link.
func (l *link) writer(ctx context.Context, w io.Writer) io.Writer {
	return &throttled{ctx: ctx, w: w, lim: l.lim}
}

type throttled struct {
	ctx context.Context
	w   io.Writer
	lim *rate.Limiter
}

func (t *throttled) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		c := min(len(p), linkBurst)
		if err := t.lim.WaitN(t.ctx, c); err != nil {
			return n, err
		}
		m, err := t.w.Write(p[:c])
		n += m
		if err != nil {
			return n, err
		}
		p = p[c:]
	}
	return n, nil
}

// mirrorServer serves dir over HTTP with Range, behind a capped link.
type mirrorServer struct {
	dir  string
	link *link
}

func (m *mirrorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, err := os.Open(filepath.Join(m.dir, filepath.Base(r.URL.Path)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	tw := &throttledResponse{ResponseWriter: w, w: m.link.writer(r.Context(), w)}
	http.ServeContent(tw, r, fi.Name(), fi.ModTime(), f)
}

type throttledResponse struct {
	http.ResponseWriter
	w io.Writer
}

func (t *throttledResponse) Write(p []byte) (int, error) { return t.w.Write(p) }

// serveOn runs h on ln until ctx is done.
func serveOn(ctx context.Context, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	safe.Go(func() { srv.Serve(ln) })
	safe.Go(func() {
		<-ctx.Done()
		srv.Close()
	})
}
