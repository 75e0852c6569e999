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

// Dst receives an image's bytes. Every Dst takes bytes in order and out of
// order, and hears of progress that is not yet a write, so a wrapper that
// passes a Dst on has nothing optional to forward.
//
// Write appends at Offset(); Offset grows as it writes. WriteAt lands bytes
// anywhere, for sources whose pieces land in any order (BitTorrent), and may
// be called concurrently for disjoint ranges; Offset is then the length of
// the complete prefix, every byte below it landed and final. ReadAt reads
// back bytes that landed (a swarm re-checks and serves its pieces). Beat
// says the fetcher made progress it cannot write yet (a swarm receiving the
// blocks of a piece that lands only once all are in and checked); a stall
// watch counts it as progress (see Watchdog).
//
// Bytes already in Dst when Fetch is called were staged earlier (by a killed
// run or another source) and must not be fetched again.
type Dst interface {
	io.Writer
	io.WriterAt
	io.ReaderAt
	Offset() int64
	Beat()
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
