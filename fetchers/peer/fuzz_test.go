package peer

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prestaged/prestaged/digest"
)

// FuzzServeRequest: whatever path, method and Range a client sends, the
// server answers with a status it documents, never panics, and serves
// only the bytes of a blob it was told to serve.
func FuzzServeRequest(f *testing.F) {
	data, d := randomBlob(4096, 1)
	partial, pd := randomBlob(1000, 2)
	c := newMemContent()
	c.add(d, data, len(data))
	c.add(pd, partial, 300)
	// A partial blob whose fetch was abandoned: a GET past its 300 bytes
	// ends at once instead of waiting for bytes that never come.
	c.fail(pd)
	srv := NewServer(c, WithAllowed(map[digest.Digest]int64{d: 4096, pd: 1000}))
	for _, s := range []struct{ method, path, rng string }{
		{"GET", BlobPrefix + d.Path(), ""},
		{"GET", BlobPrefix + d.Path(), "bytes=100-"},
		{"HEAD", BlobPrefix + d.Path(), "bytes=4096-"},
		{"GET", BlobPrefix + pd.Path() + "?complete=1", ""},
		{"GET", BlobPrefix + pd.Path(), ""},
		{"GET", BlobPrefix + "sha256/../../etc/passwd", ""},
		{"GET", BlobPrefix + "md5/00", "bytes=0-0,5-9"},
		{"GET", StatusPath, ""},
		{"POST", BlobPrefix + d.Path(), "bytes=-5"},
	} {
		f.Add(s.method, s.path, s.rng)
	}
	allowed := map[int]bool{200: true, 206: true, 301: true, 307: true, 400: true, 404: true, 405: true, 416: true, 500: true, 503: true}
	f.Fuzz(func(t *testing.T, method, path, rng string) {
		req, err := http.NewRequest(method, "http://parent"+path, nil)
		if err != nil || req.URL.Host != "parent" {
			return // not a request a client can send
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		w := serveAsNetHTTP(srv, req)
		if !allowed[w.Code] {
			t.Fatalf("%s %s Range %q: status %d", method, path, rng, w.Code)
		}
		if w.Code/100 == 2 && w.Body.Len() > 4096 {
			t.Fatalf("%s %s Range %q: %d bytes served", method, path, rng, w.Body.Len())
		}
	})
}

// serveAsNetHTTP calls h as net/http's server does, where
// http.ErrAbortHandler ends a response mid-body without failing the server.
func serveAsNetHTTP(h http.Handler, req *http.Request) (w *httptest.ResponseRecorder) {
	w = httptest.NewRecorder()
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			panic(v)
		}
	}()
	h.ServeHTTP(w, req)
	return w
}
