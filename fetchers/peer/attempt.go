package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prestaged/prestaged/fetchers"
)

// fromParent fetches from one parent until dst holds the whole image. It
// waits while the parent answers "not yet" and shows progress, and returns
// an error naming the parent when it should move on to the next one.
func (p *Parents) fromParent(ctx context.Context, parent string, req fetchers.Request, dst fetchers.Dst) error {
	pr := progress{have: -1, since: time.Now()}
	for {
		a, err := p.get(ctx, parent, req, dst.Offset())
		if err != nil {
			return err
		}
		switch a.resp.StatusCode {
		case http.StatusOK, http.StatusPartialContent:
			err := p.copyBody(parent, req, dst, a)
			a.close(false)
			return err
		case http.StatusNotFound:
			a.close(true)
			return fmt.Errorf("parent %s does not serve %s: %w", parent, req.Digest.Short(), fetchers.ErrNotFound)
		case http.StatusServiceUnavailable:
			wait, err := p.notYet(parent, req, a.resp, &pr)
			a.close(true)
			if err != nil {
				return err
			}
			if err := sleep(ctx, wait); err != nil {
				return err
			}
		default:
			a.close(true)
			return fmt.Errorf("parent %s: HTTP %s", parent, a.resp.Status)
		}
	}
}

// attempt is one request to a parent, cancelled by a watchdog when it
// stalls: no answer, or a body slower than fetchers.StallFloor per stall
// timeout.
type attempt struct {
	resp   *http.Response
	cancel context.CancelFunc
	dog    *fetchers.Watchdog
}

func (p *Parents) get(ctx context.Context, parent string, req fetchers.Request, off int64) (*attempt, error) {
	actx, cancel := context.WithCancel(ctx)
	a := &attempt{cancel: cancel}
	a.dog = fetchers.NewWatchdog(p.opts.StallTimeout, req.Size-off, cancel)
	hreq, err := http.NewRequestWithContext(actx, http.MethodGet, p.blobURL(parent, req.Digest), nil)
	if err != nil {
		a.close(false)
		return nil, fmt.Errorf("parent %s: %w", parent, err)
	}
	if off > 0 {
		hreq.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	a.resp, err = p.opts.Client.Do(hreq)
	if err != nil {
		a.close(false)
		if a.dog.Err() != nil {
			return nil, fmt.Errorf("parent %s: no answer for %s: %w", parent, p.opts.StallTimeout, fetchers.ErrStalled)
		}
		return nil, fmt.Errorf("parent %s: %w", parent, err)
	}
	return a, nil
}

// close ends the attempt; drain reads a short error body first so the
// connection can be reused.
func (a *attempt) close(drain bool) {
	a.dog.Stop()
	if a.resp != nil {
		if drain {
			io.CopyN(io.Discard, a.resp.Body, 64<<10)
		}
		a.resp.Body.Close()
	}
	a.cancel()
}

// dstError is a failure to stage bytes: not the parent's fault, so Fetch
// returns it instead of trying the next parent.
type dstError struct{ err error }

func (e dstError) Error() string { return e.err.Error() }
func (e dstError) Unwrap() error { return e.err }

// copyBody streams a 200/206 answer into dst and records what the parent
// sent.
func (p *Parents) copyBody(parent string, req fetchers.Request, dst fetchers.Dst, a *attempt) error {
	off := dst.Offset()
	if err := checkStart(a.resp, off, req.Size); err != nil {
		return fmt.Errorf("parent %s: %w", parent, err)
	}
	start := off
	defer func() { p.record(req.Digest, parent, start, off) }()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for off < req.Size {
		n, err := a.resp.Body.Read(buf[:min(int64(len(buf)), req.Size-off)])
		if n > 0 {
			a.dog.Progress(n)
			m, werr := dst.Write(buf[:n])
			off += int64(m)
			if werr != nil {
				return dstError{fmt.Errorf("staging bytes from parent %s: %w", parent, werr)}
			}
		}
		switch {
		case err == nil || off >= req.Size:
		case errors.Is(err, io.EOF):
			return fmt.Errorf("parent %s: stream ended at byte %d of %d: %w", parent, off, req.Size, fetchers.ErrTooShort)
		case err != nil && a.dog.Err() != nil:
			return fmt.Errorf("parent %s: at byte %d: %w", parent, off, a.dog.Err())
		case err != nil:
			return fmt.Errorf("parent %s: stream cut at byte %d: %w", parent, off, err)
		}
	}
	p.event(parent, "sent bytes %d-%d of %s", start, off, req.Image)
	return nil
}

// checkStart verifies that a 200/206 answer starts at off of an image of
// size bytes.
func checkStart(resp *http.Response, off, size int64) error {
	if resp.StatusCode == http.StatusOK {
		if off != 0 {
			return fmt.Errorf("ignored Range from byte %d", off)
		}
		if resp.ContentLength > size {
			return fmt.Errorf("offers %d bytes of a %d-byte image: %w", resp.ContentLength, size, fetchers.ErrTooLong)
		}
		return nil
	}
	cr := resp.Header.Get("Content-Range")
	s, e, total, err := fetchers.ParseContentRange(cr)
	if err != nil {
		return err
	}
	if total != size || e >= size {
		return fmt.Errorf("Content-Range %q for a %d-byte image: %w", cr, size, fetchers.ErrTooLong)
	}
	if s != off {
		return fmt.Errorf("Content-Range %q, asked from byte %d", cr, off)
	}
	return nil
}

// progress is what a parent answering "not yet" held when it last showed
// progress, and since when.
type progress struct {
	have  int64
	since time.Time
}

// notYet handles a 503: busy parents are left at once; a parent still
// receiving the image is waited on while what it holds grows by at least
// fetchers.StallFloor per stall timeout (the floor a body must keep), and,
// for a store-and-forward child, while the parent says it is fetching. A
// parent claiming more than the image holds is lying and left. It returns
// how long to wait before the next poll: the poll interval, or longer when
// the parent's Retry-After asks so, but never past the stall budget.
func (p *Parents) notYet(parent string, req fetchers.Request, resp *http.Response, pr *progress) (time.Duration, error) {
	h := resp.Header.Get(HeaderHave)
	if h == "" {
		return 0, fmt.Errorf("parent %s: %w", parent, ErrBusy)
	}
	have, _ := strconv.ParseInt(h, 10, 64)
	if have > req.Size {
		return 0, fmt.Errorf("parent %s claims to hold %d bytes of %s, a %d-byte image: %w",
			parent, have, req.Image, req.Size, fetchers.ErrTooLong)
	}
	now := time.Now()
	need := max(min(fetchers.StallFloor, req.Size-pr.have), 1)
	switch {
	case pr.have < 0:
		p.event(parent, "does not hold the image yet (%d bytes); waiting", have)
		pr.have, pr.since = have, now
	case have-pr.have >= need || p.opts.CompleteOnly && resp.Header.Get(HeaderFetching) == "1":
		pr.have, pr.since = max(have, pr.have), now
	}
	budget := p.opts.StallTimeout - now.Sub(pr.since)
	if budget <= 0 {
		return 0, fmt.Errorf("parent %s: holds %d bytes, no progress of %d bytes for %s: %w",
			parent, have, need, p.opts.StallTimeout, fetchers.ErrStalled)
	}
	wait := p.opts.PollInterval
	if wait <= 0 {
		wait = time.Second
	}
	if ra, ok := retryAfter(resp, now); ok && ra > wait {
		if ra > budget {
			return 0, fmt.Errorf("parent %s: holds %d bytes, asks to be polled again in %s, past the stall budget (%s left of %s): %w",
				parent, have, ra, budget.Round(time.Millisecond), p.opts.StallTimeout, fetchers.ErrStalled)
		}
		wait = ra
	}
	return min(wait, budget), nil
}

// retryAfter reads Retry-After, in seconds or as an HTTP date.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 1<<31)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
