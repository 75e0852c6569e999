package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prestaged/prestaged/fetchers"
)

func (p *Parent) get(ctx context.Context, req fetchers.Request, off int64) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, blobURL(p.addr, req.Digest, p.opts.CompleteOnly), nil)
	if err != nil {
		return nil, fmt.Errorf("parent %s: %w", p.addr, err)
	}
	if off > 0 {
		hreq.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	resp, err := p.opts.Client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("parent %s: %w", p.addr, err)
	}
	return resp, nil
}

// closeBody ends a response; drain reads a short error body first so the
// connection can be reused.
func closeBody(resp *http.Response, drain bool) {
	if drain {
		io.CopyN(io.Discard, resp.Body, 64<<10)
	}
	resp.Body.Close()
}

// copyBody streams a 200/206 answer into dst, keeping mine at dst's offset
// for the watch.
func (p *Parent) copyBody(req fetchers.Request, dst fetchers.Dst, resp *http.Response, mine *atomic.Int64) error {
	off := dst.Offset()
	if err := checkStart(resp, off, req.Size); err != nil {
		return fmt.Errorf("parent %s: %w", p.addr, err)
	}
	start := off
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for off < req.Size {
		n, err := resp.Body.Read(buf[:min(int64(len(buf)), req.Size-off)])
		if n > 0 {
			m, werr := dst.Write(buf[:n])
			off += int64(m)
			mine.Store(off)
			if werr != nil {
				return fmt.Errorf("staging bytes from parent %s: %w", p.addr, werr)
			}
		}
		switch {
		case err == nil || off >= req.Size:
		case errors.Is(err, io.EOF):
			return fmt.Errorf("parent %s: stream ended at byte %d of %d: %w", p.addr, off, req.Size, fetchers.ErrTooShort)
		default:
			return fmt.Errorf("parent %s: stream cut at byte %d: %w", p.addr, off, err)
		}
	}
	p.event("sent bytes %d-%d of %s", start, off, req.Image)
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
// progress.
type progress struct{ have int64 }

// notYet handles a 503: busy parents are left at once; a parent still
// receiving the image shows progress, a beat on dst for the stall watch,
// when what it holds grows by at least fetchers.StallFloor (the floor a body
// must keep), and, for a store-and-forward child, whenever it says it is
// fetching. A parent claiming more than the image holds is lying and left.
// It returns how long to wait before the next poll: the poll interval, or
// longer when the parent's Retry-After asks so, but never past the stall
// budget; a Retry-After past it is a stall now, since the watch would cut
// the wait.
func (p *Parent) notYet(ctx context.Context, req fetchers.Request, dst fetchers.Dst, resp *http.Response, pr *progress) (time.Duration, error) {
	h := resp.Header.Get(HeaderHave)
	if h == "" {
		return 0, fmt.Errorf("parent %s: %w", p.addr, ErrBusy)
	}
	have, _ := strconv.ParseInt(h, 10, 64)
	if have > req.Size {
		return 0, fmt.Errorf("parent %s claims to hold %d bytes of %s, a %d-byte image: %w",
			p.addr, have, req.Image, req.Size, fetchers.ErrTooLong)
	}
	need := max(min(fetchers.StallFloor, req.Size-pr.have), 1)
	switch {
	case pr.have < 0:
		p.event("does not hold the image yet (%d bytes); waiting", have)
		pr.have = have
	case have-pr.have >= need || p.opts.CompleteOnly && resp.Header.Get(HeaderFetching) == "1":
		pr.have = max(have, pr.have)
		dst.Beat()
	}
	wait := p.opts.PollInterval
	if wait <= 0 {
		wait = time.Second
	}
	ra, asked := retryAfter(resp, time.Now())
	honoured := asked && ra > wait
	if honoured {
		wait = ra
	}
	budget, watched := fetchers.StallBudget(ctx)
	switch {
	case !watched:
		return wait, nil
	case honoured && ra > budget:
		return 0, fmt.Errorf("parent %s: holds %d bytes, asks to be polled again in %s, past the stall budget (%s left): %w",
			p.addr, have, ra, budget.Round(time.Millisecond), fetchers.ErrStalled)
	case budget <= 0:
		return 0, fmt.Errorf("parent %s: holds %d bytes, no progress of %d bytes within the stall timeout: %w",
			p.addr, have, need, fetchers.ErrStalled)
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
