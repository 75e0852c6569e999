package mirror

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

// BenchmarkMirrorHTTP measures the data path, socket to Dst, over loopback:
// go test -run '^$' -bench MirrorHTTP ./fetchers/mirror/
func BenchmarkMirrorHTTP(b *testing.B) {
	const size = 256 << 20
	content := fetcherstest.Content(size, 30)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "bench.img", time.Time{}, bytes.NewReader(content))
	}))
	defer srv.Close()
	m, err := New("bench", srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	req := fetchers.Request{Image: "bench", Size: size, Path: "bench.img"}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		var dst fetcherstest.Discard
		if err := m.Fetch(b.Context(), req, &dst); err != nil {
			b.Fatal(err)
		}
	}
}
