// Package fetchers defines how image bytes are obtained: the one-method
// Fetcher interface, the Request it serves, error classes, and wrappers that
// add retry, stall detection and fallback to any fetcher.
//
// fetchers knows nothing of the engine, the store or HCL; concrete fetchers
// live in sub-packages (mirror, peer, torrent) and import only this package
// and digest.
package fetchers

import (
	"context"
	"io"

	"github.com/prestaged/prestaged/digest"
)

// Request names the image to fetch.
type Request struct {
	// Image is the spec's name for the image, used in messages only.
	Image string
	// Digest is the content's expected digest. Fetchers may use it to
	// address content (peers do); the engine verifies it, not the fetcher.
	Digest digest.Digest
	// Size is the expected length in bytes. A fetcher must never write past
	// it: a source offering more is lying (ErrTooLong).
	Size int64
	// Path is the image's path relative to a mirror's URL.
	Path string
}

// Dst receives an image's bytes. The fetcher writes, in order, the bytes from
// Offset() on; Offset grows as it writes. Bytes already in Dst when Fetch is
// called were staged earlier (by a killed run or another source) and must not
// be fetched again.
type Dst interface {
	io.Writer
	Offset() int64
}

// Fetcher obtains an image's bytes from one source.
//
// Contract: Fetch writes bytes [dst.Offset(), req.Size) to dst and returns nil
// when it has written them all. It returns a Permanent error when retrying the
// same source cannot help (not found, refused, lying about size), any other
// error when a retry may succeed (connection reset, 5xx, stall). Fetch stops
// promptly when ctx is done. A fetcher does not close dst and does not verify
// the digest: the engine does both.
type Fetcher interface {
	Fetch(ctx context.Context, req Request, dst Dst) error
}

// Func adapts a function to Fetcher.
type Func func(ctx context.Context, req Request, dst Dst) error

func (f Func) Fetch(ctx context.Context, req Request, dst Dst) error { return f(ctx, req, dst) }

// Named gives a fetcher the name shown in logs and --json ("mirror.central",
// "parents", "parent lxb0012:7946", "torrent").
type Named struct {
	Name string
	Fetcher
}

// RandomDst is a Dst that also accepts bytes out of order, for sources whose
// pieces land in any order (BitTorrent). Offset is then the length of the
// complete prefix: every byte below it has landed and is final. WriteAt may
// be called concurrently for disjoint ranges; ReadAt reads back bytes that
// have landed (a swarm re-checks and serves its pieces).
type RandomDst interface {
	Dst
	io.WriterAt
	io.ReaderAt
}

// Heartbeat is implemented by a Dst that watches for stalls
// (WithStallTimeout). A fetcher that makes progress before it can write
// calls Beat: a swarm receives blocks of a piece that lands only once all
// of them are in and checked, which on a slow link, or shared among many
// peers, takes longer than a stall timeout.
type Heartbeat interface {
	Beat()
}

// Beat reports progress to dst, when it watches for stalls.
func Beat(dst Dst) {
	if h, ok := dst.(Heartbeat); ok {
		h.Beat()
	}
}
