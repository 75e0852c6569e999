package fetcherstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/prestaged/prestaged/fetchers"
)

var _ fetchers.Fetcher = (*Fake)(nil)

// FaultKind is what a Fault does when the Fake's write position reaches At.
type FaultKind int

const (
	// FailAfter returns Err once the bytes before At are written.
	FailAfter FaultKind = iota + 1
	// StallAfter stops writing at At and blocks until ctx is done.
	StallAfter
	// CorruptAt flips the bits of the byte at At as it is written.
	CorruptAt
	// TooLong makes the source claim more bytes than Request.Size: the
	// Fake writes up to Size, as a fetcher must, and returns ErrTooLong.
	TooLong
	// Overrun breaks the contract: after the content the Fake writes At
	// extra bytes past Request.Size and returns nil, to test that callers
	// catch a misbehaving fetcher.
	Overrun
)

// ErrInjected is the error of a FailAfter fault without its own Err.
var ErrInjected = errors.New("injected fault")

// Fault is one failure injected into a Fake.
type Fault struct {
	Kind FaultKind
	// At is an absolute offset in the content (a count for Overrun).
	At int64
	// Err is returned by FailAfter; nil means ErrInjected (retryable).
	Err error
	// Times arms the fault on the first Times calls of Fetch; 0 arms it on
	// every call.
	Times int
}

// Span is a range of content one Fetch call wrote to its dst.
type Span struct{ Off, N int64 }

// Fake is a Fetcher serving Content, in chunks, from dst.Offset() on. It
// follows the Fetcher contract unless a Fault says otherwise, and records
// what every call served. Set its fields before the first Fetch.
type Fake struct {
	Content []byte
	// Path, when not empty, is the only Request.Path served; any other is
	// ErrNotFound.
	Path   string
	Faults []Fault
	// ChunkSize is the size of each write; 0 means 64 KiB.
	ChunkSize int

	mu     sync.Mutex
	calls  int
	served []Span
}

// Calls is how many times Fetch was called.
func (f *Fake) Calls() int { return locked(&f.mu, func() int { return f.calls }) }

// Served lists, per call, the range of content written to dst.
func (f *Fake) Served() []Span { return locked(&f.mu, func() []Span { return slices.Clone(f.served) }) }

// armed counts the call and returns the faults armed on it.
func (f *Fake) armed() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var on []Fault
	for _, flt := range f.Faults {
		if flt.Times == 0 || f.calls <= flt.Times {
			on = append(on, flt)
		}
	}
	return on
}

func (f *Fake) record(s Span) {
	f.mu.Lock()
	f.served = append(f.served, s)
	f.mu.Unlock()
}

func (f *Fake) Fetch(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
	faults := f.armed()
	off, size := dst.Offset(), int64(len(f.Content))
	prefix := fmt.Sprintf("fake: image %s", req.Image)
	switch {
	case f.Path != "" && req.Path != f.Path:
		return fetchers.Permanentf("%s: path %q: %w", prefix, req.Path, fetchers.ErrNotFound)
	case size > req.Size:
		return fetchers.Permanentf("%s: has %d bytes, want %d: %w", prefix, size, req.Size, fetchers.ErrTooLong)
	case off > size:
		return fetchers.Permanentf("%s: dst has %d bytes, source only %d", prefix, off, size)
	}
	pos, err := f.write(ctx, faults, dst, off)
	f.record(Span{Off: off, N: pos - off})
	if err != nil {
		return fmt.Errorf("%s: at byte %d: %w", prefix, pos, err)
	}
	return f.finish(faults, req, dst, prefix)
}

// write copies content from off on, triggering Fail and Stall faults at their
// offsets; it returns where it stopped.
func (f *Fake) write(ctx context.Context, faults []Fault, dst fetchers.Dst, off int64) (int64, error) {
	size, chunk := int64(len(f.Content)), int64(f.ChunkSize)
	if chunk <= 0 {
		chunk = 64 << 10
	}
	for pos := off; ; {
		if err := ctx.Err(); err != nil {
			return pos, err
		}
		next := min(pos+chunk, size)
		for _, flt := range faults {
			switch {
			case flt.Kind != FailAfter && flt.Kind != StallAfter:
			case flt.At == pos && flt.Kind == FailAfter:
				return pos, cmpOr(flt.Err, ErrInjected)
			case flt.At == pos:
				<-ctx.Done()
				return pos, ctx.Err()
			case flt.At > pos && flt.At < next:
				next = flt.At
			}
		}
		if pos >= size {
			return pos, nil
		}
		n, err := dst.Write(corrupt(f.Content[pos:next], pos, faults))
		pos += int64(n)
		if err != nil {
			return pos, err
		}
	}
}

// finish applies the end-of-content faults and the size check.
func (f *Fake) finish(faults []Fault, req fetchers.Request, dst fetchers.Dst, prefix string) error {
	for _, flt := range faults {
		switch flt.Kind {
		case TooLong:
			return fetchers.Permanentf("%s: source has more than %d bytes: %w", prefix, req.Size, fetchers.ErrTooLong)
		case Overrun:
			if _, err := dst.Write(make([]byte, flt.At)); err != nil {
				return err
			}
		}
	}
	if n := int64(len(f.Content)); n < req.Size {
		return fmt.Errorf("%s: ended at %d of %d bytes: %w", prefix, n, req.Size, fetchers.ErrTooShort)
	}
	return nil
}

// corrupt returns b, or a copy of it with CorruptAt bytes flipped.
func corrupt(b []byte, pos int64, faults []Fault) []byte {
	out := b
	for _, flt := range faults {
		if flt.Kind == CorruptAt && flt.At >= pos && flt.At < pos+int64(len(b)) {
			if &out[0] == &b[0] {
				out = slices.Clone(b)
			}
			out[flt.At-pos] ^= 0xff
		}
	}
	return out
}

func cmpOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
