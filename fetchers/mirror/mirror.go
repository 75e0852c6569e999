// Package mirror fetches images from plain mirrors: http, https and file://
// URLs, resuming with Range from the bytes already staged.
//
// A Mirror does one attempt per Fetch. Retry, stall detection and fallback
// are added by the wrappers in package fetchers. mirror imports only
// fetchers; it knows nothing of the engine, the store or the spec.
package mirror

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/prestaged/prestaged/fetchers"
)

var _ fetchers.Fetcher = (*Mirror)(nil)

// Mirror fetches an image from baseURL + Request.Path.
type Mirror struct {
	name   string
	base   *url.URL
	dir    string // for file:// mirrors, the local directory
	client *http.Client
}

// Option configures a Mirror.
type Option func(*Mirror)

// WithClient makes the mirror use c instead of the shared tuned client.
// Give c no overall Timeout: a 10 GB image takes minutes; stalls are caught
// by fetchers.WithStallTimeout.
func WithClient(c *http.Client) Option { return func(m *Mirror) { m.client = c } }

// New returns a mirror named name (used in messages) at baseURL, which must
// be an absolute http, https or file URL (file:///abs/dir/). A missing
// trailing slash is added: the base is always a directory.
func New(name, baseURL string, opts ...Option) (*Mirror, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("mirror %s: %w", name, err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("mirror %s: %q: a base URL takes no query or fragment", name, baseURL)
	}
	m := &Mirror{name: name, base: u, client: sharedClient}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("mirror %s: %q has no host", name, baseURL)
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("mirror %s: %q: want file:///absolute/dir/", name, baseURL)
		}
		m.dir = filepath.FromSlash(u.Path)
	default:
		return nil, fmt.Errorf("mirror %s: %q: scheme %q is not http, https or file", name, baseURL, u.Scheme)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// Name is the name given to New.
func (m *Mirror) Name() string { return m.name }

// String is the base URL.
func (m *Mirror) String() string { return m.base.String() }

// Fetch writes the image's bytes from dst.Offset() to req.Size into dst.
//
// Not found (404, 410, missing file), refused (401, 403, other 4xx) and a
// source longer than req.Size are permanent; 5xx, 429, connection errors
// and a body ending early are retryable.
func (m *Mirror) Fetch(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
	rel, err := cleanPath(req.Path)
	if err != nil {
		return fetchers.Permanentf("mirror %s: %w", m.name, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mirror %s: %w", m.name, err)
	}
	if dst.Offset() >= req.Size {
		return m.alreadyDone(req, dst)
	}
	if m.dir != "" {
		return m.fetchFile(ctx, req, rel, dst)
	}
	return m.fetchHTTP(ctx, req, rel, dst)
}

func (m *Mirror) alreadyDone(req fetchers.Request, dst fetchers.Dst) error {
	if off := dst.Offset(); off > req.Size {
		return fetchers.Permanentf("mirror %s: dst already holds %d bytes, more than the size %d: %w",
			m.name, off, req.Size, fetchers.ErrTooLong)
	}
	return nil
}

// cleanPath checks a request path and splits it into segments. Paths come
// from specs and signed lists, never from the network, but a "..", an
// absolute path or an empty segment is refused so that a file:// mirror can
// only read below its directory.
func cleanPath(p string) ([]string, error) {
	if p == "" || strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("path %q: want a relative path", p)
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." || strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("path %q: empty, '.' or '..' segment", p)
		}
	}
	return segs, nil
}

// urlFor is the base URL joined with the escaped segments.
func (m *Mirror) urlFor(segs []string) string {
	esc := make([]string, len(segs))
	for i, s := range segs {
		esc[i] = url.PathEscape(s)
	}
	return m.base.String() + strings.Join(esc, "/")
}
