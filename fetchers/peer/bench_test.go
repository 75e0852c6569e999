package peer

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

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

// BenchmarkParentFetch is the same transfer through the parent fetcher,
// under the stall watch as wired.
func BenchmarkParentFetch(b *testing.B) {
	data, d := randomBlob(benchSize, 20)
	p := newTestPeer(b, WithAllowed(map[digest.Digest]int64{d: benchSize}))
	p.content.add(d, data, benchSize)
	parents := fetchers.WithStallTimeout(NewParent(p.http.URL, Options{}), 30*time.Second)
	req := fetchers.Request{Image: "bench", Digest: d, Size: benchSize}
	b.SetBytes(benchSize)
	for b.Loop() {
		if err := parents.Fetch(context.Background(), req, &fetcherstest.Discard{}); err != nil {
			b.Fatal(err)
		}
	}
}
