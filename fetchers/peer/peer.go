// Package peer implements prestaged's peer protocol (docs/protocol.md): the
// HTTP server a host runs with `prestaged serve` to feed its children, and
// the parent fetcher a child uses for each of its parents (source
// "parents"), resuming with Range where the source before it stopped.
//
// A parent serves complete blobs and also blobs it is still fetching: it
// streams bytes as they land (cut-through) and aborts the response, so the
// child sees a truncated body, if its own fetch fails. Only digests it was
// told to serve are served; nothing from a request becomes a path.
//
// peer imports only fetchers and digest. It knows nothing of the engine or
// the store: the server reads content through the small Content interface,
// which the wiring code adapts to the store.
package peer

import (
	"context"
	"errors"
	"io"

	"github.com/prestaged/prestaged/digest"
)

// Protocol constants shared by server and client.
const (
	// BlobPrefix is followed by a digest's Path ("sha256/<hex>").
	BlobPrefix = "/v1/blobs/"
	// StatusPath reports what the host holds and serves, as JSON.
	StatusPath = "/v1/status"
	// MetricsPath is Prometheus text exposition.
	MetricsPath = "/metrics"

	// HeaderHave, on a 503 "not yet" answer, is how many bytes of the blob
	// the parent holds: a child waits while it grows. A 503 without it means
	// the parent is busy (too many children): the child moves on at once.
	// Every HEAD answer carries it too, so a child can compare hosts.
	HeaderHave = "X-Prestaged-Have"
	// HeaderFetching: 1 on a "not yet" answer when this host is fetching
	// the blob right now. A store-and-forward child waits on such a parent
	// however long it holds nothing: the parent is itself waiting for a
	// complete copy from its own parent.
	HeaderFetching = "X-Prestaged-Fetching"
	// QueryComplete=1 asks for complete blobs only (store-and-forward).
	QueryComplete = "complete"
)

// ErrNotYet is wrapped by Content.Open when the content is not here yet: no
// blob and no fetch in progress, or (complete-only) the blob is incomplete.
var ErrNotYet = errors.New("not here yet")

// Content is what a Server serves: the host's content store, addressed by
// digest. Implementations must be safe for concurrent use.
type Content interface {
	// Open returns a reader of bytes [off, size) of d. It returns an error
	// wrapping ErrNotYet when the host holds nothing of d, or when
	// completeOnly and d is not complete. The reader of a blob still being
	// fetched blocks until bytes land, ends with io.EOF only after byte
	// size-1, and returns another error if that fetch is abandoned. Reads
	// stop when ctx is done. The caller closes the reader.
	Open(ctx context.Context, d digest.Digest, size, off int64, completeOnly bool) (io.ReadCloser, error)
	// Have reports how many bytes of d the host holds (the complete prefix)
	// and whether they are the complete, verified blob.
	Have(d digest.Digest) (have int64, complete bool, err error)
}

// FetchReporter is implemented by a Content that can tell whether the host
// is fetching d right now (some process is writing it).
type FetchReporter interface {
	Fetching(d digest.Digest) bool
}

// NWriterTo is implemented by content readers that can copy their next n
// bytes to a writer without a user-space buffer (file ranges, so that a
// TCP connection uses sendfile). An error for which ContentFailed reports
// true is the content's (the response is aborted); any other is the
// writer's (the child went away).
type NWriterTo interface {
	WriteNTo(w io.Writer, n int64) (int64, error)
}

// bufSize is the data path's buffer: large reads and writes keep a gigabit
// link full with few system calls.
const bufSize = 1 << 20
