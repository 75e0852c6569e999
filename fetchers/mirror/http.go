package mirror

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/prestaged/prestaged/fetchers"
)

// fetchHTTP does one GET, with Range when bytes are already staged.
func (m *Mirror) fetchHTTP(ctx context.Context, req fetchers.Request, segs []string, dst fetchers.Dst) error {
	u := m.urlFor(segs)
	off := dst.Offset()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return m.fail(ctx, req, u, fetchers.Permanent(err))
	}
	if off > 0 {
		hreq.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	resp, err := m.client.Do(hreq)
	if err != nil {
		return m.fail(ctx, req, u, err)
	}
	defer resp.Body.Close()
	skip, err := checkResponse(resp, off, req.Size)
	if err != nil {
		return m.fail(ctx, req, u, err)
	}
	if err := copyBody(ctx, dst, resp.Body, skip, req.Size-off); err != nil {
		return m.fail(ctx, req, u, err)
	}
	return nil
}

// fail prefixes err with the mirror and where it read (the engine names
// the image). When ctx
// is done, the cancellation is the cause, whatever error it provoked.
func (m *Mirror) fail(ctx context.Context, req fetchers.Request, where string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("mirror %s: %s: %w (%v)", m.name, where, cerr, err)
	}
	return fmt.Errorf("mirror %s: %s: %w", m.name, where, err)
}

// checkResponse classes the status and checks the announced length against
// the image's size before any byte is copied. skip is how many bytes of the
// body precede offset off (a server that ignored Range sends them again).
func checkResponse(resp *http.Response, off, size int64) (skip int64, err error) {
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		if cl := resp.ContentLength; cl >= 0 {
			return off, checkLength(cl, size)
		}
		return off, nil
	case code == http.StatusPartialContent:
		if err := checkContentRange(resp.Header.Get("Content-Range"), off, size); err != nil {
			return 0, err
		}
		if cl := resp.ContentLength; cl >= 0 {
			return 0, checkLength(off+cl, size)
		}
		return 0, nil
	case code == http.StatusNotFound || code == http.StatusGone:
		return 0, fetchers.Permanentf("status %q: %w", resp.Status, fetchers.ErrNotFound)
	case code == http.StatusRequestedRangeNotSatisfiable:
		return 0, fetchers.Permanentf("status %q: the mirror's file is shorter than the %d bytes staged: %w",
			resp.Status, off, fetchers.ErrTooShort)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return 0, fetchers.Permanentf("status %q: refused; check the mirror's permissions", resp.Status)
	case code == http.StatusTooManyRequests || code >= 500:
		return 0, fmt.Errorf("status %q", resp.Status)
	case code >= 400:
		return 0, fetchers.Permanentf("status %q", resp.Status)
	default:
		return 0, fmt.Errorf("unexpected status %q", resp.Status)
	}
}

// checkLength compares a source's whole length with the image's size.
func checkLength(got, size int64) error {
	switch {
	case got > size:
		return fetchers.Permanentf("source has %d bytes, image is %d: %w", got, size, fetchers.ErrTooLong)
	case got < size:
		return fmt.Errorf("source has %d bytes, image is %d: %w", got, size, fetchers.ErrTooShort)
	}
	return nil
}

// checkContentRange checks a 206's "bytes <first>-<last>/<total>".
func checkContentRange(h string, off, size int64) error {
	first, last, total, err := fetchers.ParseContentRange(h)
	switch {
	case err != nil:
		return fetchers.Permanent(err)
	case first != off:
		return fetchers.Permanentf("Content-Range %q starts at %d, asked for %d", h, first, off)
	case last >= size:
		return fetchers.Permanentf("Content-Range %q runs past the image size %d: %w", h, size, fetchers.ErrTooLong)
	case total >= 0:
		return checkLength(total, size)
	}
	return nil
}
