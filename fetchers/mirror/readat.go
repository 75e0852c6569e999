package mirror

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/prestaged/prestaged/fetchers"
)

// ReadAt reads exactly len(p) bytes of the image at off: one piece, for a
// swarm that takes pieces it lacks from the mirror (torrent.Origin). Over
// HTTP it asks for that range alone and wants a 206 for it; a mirror that
// ignores Range would send the whole image for every piece, so its 200 is
// refused as permanent. Errors are classed as Fetch's are.
func (m *Mirror) ReadAt(ctx context.Context, req fetchers.Request, p []byte, off int64) error {
	segs, err := cleanPath(req.Path)
	if err != nil {
		return fetchers.Permanentf("mirror %s: %w", m.name, err)
	}
	end := off + int64(len(p))
	if off < 0 || end > req.Size || len(p) == 0 {
		return fetchers.Permanentf("mirror %s: range %d-%d is not within the image's %d bytes",
			m.name, off, end, req.Size)
	}
	if m.dir != "" {
		return m.readFileAt(ctx, req, segs, p, off)
	}
	u := m.urlFor(segs)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return m.fail(ctx, req, u, fetchers.Permanent(err))
	}
	hreq.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(end-1, 10))
	resp, err := m.client.Do(hreq)
	if err != nil {
		return m.fail(ctx, req, u, err)
	}
	defer resp.Body.Close()
	if err := checkRange(resp, off, end, req.Size); err != nil {
		return m.fail(ctx, req, u, err)
	}
	if _, err := io.ReadFull(resp.Body, p); err != nil {
		return m.fail(ctx, req, u, fmt.Errorf("range %d-%d: %w (%v)", off, end-1, fetchers.ErrTooShort, err))
	}
	return nil
}

// checkRange wants a 206 for exactly bytes off to end-1 of a file of size
// bytes; other statuses are classed as Fetch classes them.
func checkRange(resp *http.Response, off, end, size int64) error {
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		return fetchers.Permanentf("status %q: the mirror ignores Range, so it cannot serve pieces", resp.Status)
	default:
		if _, err := checkResponse(resp, off, size); err != nil {
			return err
		}
		return fmt.Errorf("unexpected status %q", resp.Status)
	}
	h := resp.Header.Get("Content-Range")
	first, last, total, err := fetchers.ParseContentRange(h)
	switch {
	case err != nil:
		return fetchers.Permanent(err)
	case first != off || last != end-1:
		return fetchers.Permanentf("Content-Range %q, asked for bytes %d-%d", h, off, end-1)
	case total >= 0:
		return checkLength(total, size)
	}
	return nil
}

func (m *Mirror) readFileAt(ctx context.Context, req fetchers.Request, segs []string, p []byte, off int64) error {
	f, path, err := m.openFile(ctx, req, segs)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.ReadAt(p, off); err != nil {
		return m.fail(ctx, req, path, err)
	}
	return nil
}
