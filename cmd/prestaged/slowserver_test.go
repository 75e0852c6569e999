package main_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowServer is an HTTP mirror on 127.0.0.1 serving one image with Range
// support. While slow it trickles bytes; it counts every body byte sent.
type slowServer struct {
	url     string
	content []byte
	slow    atomic.Bool

	mu       sync.Mutex
	requests []*request
}

// request is one GET and the body bytes sent for it so far. A handler whose
// client was killed keeps counting until its writes fail, so bytes are
// counted per request, not per server.
type request struct {
	rng  string
	sent atomic.Int64
}

// mark is how many requests were made so far.
func (s *slowServer) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// sentSince is the body bytes sent for the requests made after mark.
func (s *slowServer) sentSince(mark int) (n int64, ranges []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.requests[mark:] {
		n += r.sent.Load()
		ranges = append(ranges, r.rng)
	}
	return n, ranges
}

// slowSite is a site whose image vm (n bytes from seed) a slow mirror
// serves, and the spec of a host that installs it from there.
func slowSite(t *testing.T, n int, seed uint64) (*site, img, *slowServer, string) {
	s := newSite(t)
	image := img{name: "vm", content: randomBytes(n, seed)}
	srv := newSlowServer(t, "vm", image.content)
	return s, image, srv, s.spec(srv.url, true, image)
}

func newSlowServer(t *testing.T, name string, content []byte) *slowServer {
	s := &slowServer{content: content}
	s.slow.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("/"+name+".img", func(w http.ResponseWriter, r *http.Request) {
		req := &request{rng: r.Header.Get("Range")}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
		http.ServeContent(&trickle{w: w, s: s, r: req}, r, name+".img", time.Time{}, bytes.NewReader(s.content))
	})
	srv := httptest.NewServer(mux) // binds 127.0.0.1
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/"
	return s
}

// trickle is a ResponseWriter that counts what it sends and, while the
// server is slow, sends it in small timed pieces.
type trickle struct {
	w http.ResponseWriter
	s *slowServer
	r *request
}

func (t *trickle) Header() http.Header  { return t.w.Header() }
func (t *trickle) WriteHeader(code int) { t.w.WriteHeader(code) }

func (t *trickle) Write(p []byte) (int, error) {
	const piece = 16 << 10
	written := 0
	for len(p) > 0 {
		n := len(p)
		if t.s.slow.Load() {
			n = min(n, piece)
			time.Sleep(10 * time.Millisecond)
		}
		m, err := t.w.Write(p[:n])
		written += m
		t.r.sent.Add(int64(m))
		if err != nil {
			return written, err
		}
		if f, ok := t.w.(http.Flusher); ok && t.s.slow.Load() {
			f.Flush()
		}
		p = p[n:]
	}
	return written, nil
}
