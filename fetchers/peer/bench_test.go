package peer

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/prestaged/prestaged/fetchers/fetcherstest"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/fetchers"
)

const benchSize = 256 << 20

// BenchmarkServeBlob serves a complete 256 MiB blob through the handler
// over loopback to a plain HTTP client.
func BenchmarkServeBlob(b *testing.B) {
	data, d := randomBlob(benchSize, 20)
	p := newTestPeer(b, WithAllowed(map[digest.Digest]int64{d: benchSize}))
	p.content.add(d, data, benchSize)
	buf := make([]byte, bufSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		resp, err := http.Get(p.http.URL + BlobPrefix + d.Path())
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, resp.Body, buf)
		resp.Body.Close()
		if err != nil || n != benchSize {
			b.Fatalf("got %d bytes: %v", n, err)
		}
	}
}

// BenchmarkParentsFetch is the same transfer through the parent fetcher.
func BenchmarkParentsFetch(b *testing.B) {
	data, d := randomBlob(benchSize, 20)
	p := newTestPeer(b, WithAllowed(map[digest.Digest]int64{d: benchSize}))
	p.content.add(d, data, benchSize)
	parents := NewParents([]string{p.http.URL}, Options{})
	req := fetchers.Request{Image: "bench", Digest: d, Size: benchSize}
	b.SetBytes(benchSize)
	for b.Loop() {
		if err := parents.Fetch(context.Background(), req, &fetcherstest.Discard{}); err != nil {
			b.Fatal(err)
		}
	}
}
