package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/fetchers"
)

// ErrBusy: a parent serves its maximum number of children. Retryable, but
// the child moves on to its next source at once.
var ErrBusy = errors.New("parent is serving its maximum number of children")

// dialTimeout bounds a connection to a parent, so that an absent one is
// left soon; the spec's stall_timeout bounds it when that is shorter.
const dialTimeout = 10 * time.Second

// Options configure a Parent fetcher.
type Options struct {
	// PollInterval is the wait between "not yet" answers, 1 s when zero. A
	// parent's longer Retry-After is honoured while it fits in the stall
	// budget (fetchers.StallBudget); one that does not is a stall at once.
	PollInterval time.Duration
	// CompleteOnly fetches only a complete blob (store-and-forward); a
	// parent still fetching it is waited on.
	CompleteOnly bool
	// Client sends the requests; nil means a client with a short dial
	// timeout, so an absent parent is left soon.
	Client *http.Client
	// OnEvent, if set, receives what happens with the parent, for logs.
	OnEvent func(parent, msg string)

	// Ancestor is the parent's own parent, when known. While it streams, a
	// child compares what the two hold: a parent growing well below it is
	// left with ErrSlow, so the next source (that ancestor) resumes.
	Ancestor string
	// Tail is a host with a free uplink, the chain's last host, when known.
	// A child that receives well below what its parent receives is itself
	// the slow link: it takes the rest from Tail, once Tail holds more than
	// it does, leaving its parent's uplink to the parent's other children.
	Tail string
	// ProbeInterval is the window over which holdings are compared,
	// DefaultProbeInterval when zero.
	ProbeInterval time.Duration
}

// Parent fetches an image from one parent: a "parent <host:port>" source.
// The wiring makes one per parent and puts them in a fetchers.Fallback, so
// the next parent resumes where this one stopped and the engine counts
// bytes per parent. It is safe for concurrent use by several images.
//
// Stall detection is fetchers.WithStallTimeout's, which must wrap a Parent:
// it cuts a parent that goes silent or trickles, and one that answers "not
// yet" without holding more, since a Parent beats (fetchers.Dst) only while
// the parent's holding grows by the stall floor.
type Parent struct {
	addr string
	opts Options
}

var _ fetchers.Fetcher = (*Parent)(nil)

// NewParent returns a fetcher from the parent at addr ("host:port" or a URL
// "http://host:port").
func NewParent(addr string, opts Options) *Parent {
	if opts.Client == nil {
		opts.Client = defaultClient()
	}
	return &Parent{addr: addr, opts: opts}
}

func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil, // peers are on the farm's own network
		DialContext:         fetchers.BoundedDial(&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}),
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ReadBufferSize:      256 << 10,
	}}
}

func (p *Parent) event(format string, a ...any) {
	if p.opts.OnEvent != nil {
		p.opts.OnEvent(p.addr, fmt.Sprintf(format, a...))
	}
}

// Fetch implements fetchers.Fetcher. It waits while the parent answers "not
// yet" and shows progress, and returns an error naming the parent when the
// next source should take over: wrapping fetchers.ErrNotFound (permanent)
// when the parent does not serve the image, fetchers.ErrTooLong (permanent)
// when it lies about the size, ErrBusy, ErrSlow, fetchers.ErrStalled or
// fetchers.ErrTooShort (retryable) otherwise.
func (p *Parent) Fetch(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
	pr := progress{have: -1}
	for dst.Offset() < req.Size {
		wait, err := p.attempt(ctx, req, dst, &pr)
		if err != nil {
			return err
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("parent %s: %w", p.addr, err)
		}
	}
	return nil
}

// attempt sends one request. It returns how long to wait before the next
// one while the parent answers "not yet", or the error that ends Fetch;
// after a stream it returns the stream's outcome, or takes the rest from
// the tail when the watch judged this host's own link the limit.
func (p *Parent) attempt(ctx context.Context, req fetchers.Request, dst fetchers.Dst, pr *progress) (time.Duration, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := p.get(actx, req, dst.Offset())
	if err != nil {
		return 0, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
		var mine atomic.Int64
		mine.Store(dst.Offset())
		stop := p.watch(actx, cancel, req, &mine)
		err := p.copyBody(req, dst, resp, &mine)
		stop()
		closeBody(resp, false)
		cause := context.Cause(actx)
		switch {
		case errors.Is(cause, errOwnLinkSlow):
			return 0, p.fromTail(ctx, req, dst, cause)
		case errors.Is(cause, ErrSlow):
			return 0, cause
		}
		return 0, err
	case http.StatusNotFound:
		closeBody(resp, true)
		return 0, fmt.Errorf("parent %s does not serve %s: %w", p.addr, req.Digest.Short(), fetchers.ErrNotFound)
	case http.StatusServiceUnavailable:
		defer closeBody(resp, true)
		return p.notYet(ctx, req, dst, resp, pr)
	default:
		closeBody(resp, true)
		return 0, fmt.Errorf("parent %s: HTTP %s", p.addr, resp.Status)
	}
}

// fromTail takes the rest of the image from the tail, judged by nothing
// but the stall watch around this Parent.
func (p *Parent) fromTail(ctx context.Context, req fetchers.Request, dst fetchers.Dst, why error) error {
	p.event("%v; taking the rest from the chain's tail %s", why, p.opts.Tail)
	tail := NewParent(p.opts.Tail, Options{PollInterval: p.opts.PollInterval, Client: p.opts.Client, OnEvent: p.opts.OnEvent})
	if err := tail.Fetch(ctx, req, dst); err != nil {
		return fmt.Errorf("%v, so from the chain's tail: %w", why, err)
	}
	return nil
}

// blobURL is where the host at addr serves d.
func blobURL(addr string, d digest.Digest, completeOnly bool) string {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u := strings.TrimSuffix(base, "/") + BlobPrefix + d.Path()
	if completeOnly {
		u += "?" + QueryComplete + "=1"
	}
	return u
}
