package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/fetchers"
)

// Errors of the parent fetcher, besides fetchers.ErrNotFound (every parent
// answered that it does not serve the image) and fetchers.ErrStalled.
var (
	// ErrUnavailable: no parent could deliver now (refused, busy, cut
	// short). Retryable.
	ErrUnavailable = errors.New("no parent could deliver the image")
	// ErrBusy: a parent serves its maximum number of children.
	ErrBusy = errors.New("parent is serving its maximum number of children")
)

// DefaultStallTimeout is used when Options.StallTimeout is zero.
const DefaultStallTimeout = 30 * time.Second

// Options configure a Parents fetcher.
type Options struct {
	// StallTimeout: a parent that sends fewer than fetchers.StallFloor
	// bytes, or whose "not yet" answers show less growth than that, in this
	// long is abandoned for the next parent.
	StallTimeout time.Duration
	// PollInterval is the wait between "not yet" answers, 1 s when zero. A
	// parent's longer Retry-After is honoured while it fits in what is left
	// of StallTimeout; one that does not is a stall.
	PollInterval time.Duration
	// CompleteOnly fetches only from parents holding the complete blob
	// (store-and-forward); a parent still fetching is waited on.
	CompleteOnly bool
	// Client sends the requests; nil means a client with a short dial
	// timeout, so an absent parent is skipped at once.
	Client *http.Client
	// OnEvent, if set, receives what happens with each parent, for logs.
	OnEvent func(parent, msg string)
}

// Parents fetches an image from the host's parents, in order: the source
// "parents". It is safe for concurrent use by several images.
type Parents struct {
	parents []string
	opts    Options

	mu     sync.Mutex
	served map[digest.Digest][]Span
}

var _ fetchers.Fetcher = (*Parents)(nil)

// Span is a byte range [Start, End) of an image and the parent it came from.
type Span struct {
	Parent     string
	Start, End int64
}

// NewParents returns a fetcher trying parents ("host:port" or a URL
// "http://host:port") in order.
func NewParents(parents []string, opts Options) *Parents {
	if opts.StallTimeout <= 0 {
		opts.StallTimeout = DefaultStallTimeout
	}
	if opts.Client == nil {
		opts.Client = defaultClient(min(opts.StallTimeout, 10*time.Second))
	}
	return &Parents{parents: parents, opts: opts, served: map[digest.Digest][]Span{}}
}

func defaultClient(dialTimeout time.Duration) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil, // peers are on the farm's own network
		DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ReadBufferSize:      256 << 10,
	}}
}

// Served reports which parent sent which bytes of d, staged by this process
// and not since discarded: the engine names these parents when the image
// fails verification.
func (p *Parents) Served(d digest.Digest) []Span {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Span(nil), p.served[d]...)
}

// Forget drops what Served reports for d (after a verified install).
func (p *Parents) Forget(d digest.Digest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.served, d)
}

// record notes that parent sent [start, end) of d.
func (p *Parents) record(d digest.Digest, parent string, start, end int64) {
	if end <= start {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.served[d]
	if n := len(s); n > 0 && s[n-1].Parent == parent && s[n-1].End == start {
		s[n-1].End = end
		return
	}
	p.served[d] = append(s, Span{Parent: parent, Start: start, End: end})
}

// trim forgets spans at or beyond off: those bytes are no longer staged.
func (p *Parents) trim(d digest.Digest, off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var kept []Span
	for _, s := range p.served[d] {
		if s.Start < off {
			s.End = min(s.End, off)
			kept = append(kept, s)
		}
	}
	p.served[d] = kept
}

func (p *Parents) event(parent, format string, a ...any) {
	if p.opts.OnEvent != nil {
		p.opts.OnEvent(parent, fmt.Sprintf(format, a...))
	}
}

// Fetch implements fetchers.Fetcher. It returns an error wrapping
// fetchers.ErrNotFound (permanent) when every parent says it does not serve
// the image, and a retryable one when a parent may still deliver later.
func (p *Parents) Fetch(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
	p.trim(req.Digest, dst.Offset())
	if len(p.parents) == 0 {
		return fetchers.Permanentf("no parents configured: %w", fetchers.ErrNotFound)
	}
	var msgs []string
	notFound, lied, stalled, short := 0, 0, false, false
	for _, parent := range p.parents {
		if dst.Offset() >= req.Size {
			return nil
		}
		err := p.fromParent(ctx, parent, req, dst)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("parent %s: %w", parent, ctx.Err())
		}
		if errors.As(err, new(dstError)) {
			return err
		}
		p.event(parent, "giving up on this parent at byte %d: %v", dst.Offset(), err)
		msgs = append(msgs, err.Error())
		short = short || errors.Is(err, fetchers.ErrTooShort)
		switch {
		case errors.Is(err, fetchers.ErrNotFound):
			notFound++
		case errors.Is(err, fetchers.ErrTooLong):
			lied++
		case errors.Is(err, fetchers.ErrStalled):
			stalled = true
		}
	}
	why := strings.Join(msgs, "; ")
	switch {
	case notFound == len(p.parents):
		return fetchers.Permanentf("%s: %w", why, fetchers.ErrNotFound)
	case lied > 0 && notFound+lied == len(p.parents):
		return fetchers.Permanentf("%s: %w", why, fetchers.ErrTooLong)
	case stalled:
		return fmt.Errorf("%s: %w", why, fetchers.ErrStalled)
	}
	classes := []error{ErrUnavailable}
	if short {
		classes = append(classes, fetchers.ErrTooShort)
	}
	return &parentsError{msg: why + ": " + ErrUnavailable.Error(), errs: classes}
}

// parentsError is every parent's failure, retryable: errors.Is finds
// ErrUnavailable, and ErrTooShort when a parent's stream ended early. The
// parents' own errors are only in the message, since one parent's
// permanent answer does not make the others'.
type parentsError struct {
	msg  string
	errs []error
}

func (e *parentsError) Error() string   { return e.msg }
func (e *parentsError) Unwrap() []error { return e.errs }

// blobURL is where parent serves d.
func (p *Parents) blobURL(parent string, d digest.Digest) string {
	base := parent
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u := strings.TrimSuffix(base, "/") + BlobPrefix + d.Path()
	if p.opts.CompleteOnly {
		u += "?" + QueryComplete + "=1"
	}
	return u
}
