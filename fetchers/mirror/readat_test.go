package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/prestaged/prestaged/fetchers"
)

// TestReadAtNginx reads pieces from a real nginx: one ranged GET each, for
// exactly the piece's bytes.
func TestReadAtNginx(t *testing.T) {
	ngx, content, _, m := nginxMirror(t, 12, "vm/piece.img")
	req := fetchers.Request{Image: "piece", Size: int64(len(content)), Path: "vm/piece.img"}
	for i, r := range []struct{ off, n int64 }{{0, 1 << 20}, {4 << 20, 1<<20 + 3}, {1000, 1}} {
		p := make([]byte, r.n)
		if err := m.ReadAt(t.Context(), req, p, r.off); err != nil {
			t.Fatalf("ReadAt(%d, %d): %v", r.off, r.n, err)
		}
		if !bytes.Equal(p, content[r.off:r.off+r.n]) {
			t.Errorf("ReadAt(%d, %d): wrong bytes", r.off, r.n)
		}
		log := ngx.Requests(t, i+1)
		want := fmt.Sprintf("bytes=%d-%d", r.off, r.off+r.n-1)
		if got := log[i]; got.Range != want || got.Status != 206 || got.BodyBytes != r.n {
			t.Errorf("nginx served %+v, want Range %s, 206, %d bytes", got, want, r.n)
		}
	}
	if err := m.ReadAt(t.Context(), req, make([]byte, 10), req.Size-5); !fetchers.IsPermanent(err) {
		t.Errorf("ReadAt past the end: %v, want a permanent error", err)
	}
}

// TestReadAtRefusals: what cannot give exactly the piece is an error, and
// a mirror that will never give it is a permanent one.
func TestReadAtRefusals(t *testing.T) {
	content := testContent
	size := int64(len(content))
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		permanent bool
		wantErr   error
	}{
		{"ignores Range", func(w http.ResponseWriter, r *http.Request) {
			serve(w, 200, contentLength(len(content)), content)
		}, true, nil},
		{"not found", func(w http.ResponseWriter, r *http.Request) {
			serve(w, 404, nil, nil)
		}, true, fetchers.ErrNotFound},
		{"wrong range", func(w http.ResponseWriter, r *http.Request) {
			serve(w, 206, map[string]string{"Content-Range": fmt.Sprintf("bytes 0-9/%d", size)}, content[:10])
		}, true, nil},
		{"other size", func(w http.ResponseWriter, r *http.Request) {
			serve(w, 206, map[string]string{"Content-Range": fmt.Sprintf("bytes 100-109/%d", size+1)}, content[100:110])
		}, true, fetchers.ErrTooLong},
		{"short body", func(w http.ResponseWriter, r *http.Request) {
			h := map[string]string{"Content-Range": fmt.Sprintf("bytes 100-109/%d", size), "Content-Length": "10"}
			serve(w, 206, h, content[100:105])
		}, false, fetchers.ErrTooShort},
		{"busy", func(w http.ResponseWriter, r *http.Request) {
			serve(w, 503, nil, nil)
		}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			m := newMirror(t, srv.URL+"/")
			err := m.ReadAt(t.Context(), fetchers.Request{Image: "x", Size: size, Path: "x.img"}, make([]byte, 10), 100)
			if err == nil || fetchers.IsPermanent(err) != tc.permanent || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("ReadAt: %v; want an error, permanent %t, wrapping %v", err, tc.permanent, tc.wantErr)
			}
		})
	}
}

func TestReadAtFile(t *testing.T) {
	dir := t.TempDir()
	content := testContent
	if err := os.WriteFile(filepath.Join(dir, "x.img"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	m := newMirror(t, "file://"+dir+"/")
	p := make([]byte, 1000)
	req := fetchers.Request{Image: "x", Size: int64(len(content)), Path: "x.img"}
	if err := m.ReadAt(t.Context(), req, p, 5000); err != nil || !bytes.Equal(p, content[5000:6000]) {
		t.Errorf("ReadAt: %v (bytes equal: %t)", err, bytes.Equal(p, content[5000:6000]))
	}
	req.Path = "missing.img"
	if err := m.ReadAt(t.Context(), req, p, 0); !errors.Is(err, fetchers.ErrNotFound) {
		t.Errorf("ReadAt of a missing file: %v", err)
	}
}
