package trust

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/prestaged/prestaged/spec"
)

// maxListSize bounds a fetched list; a 200-image list is about 200 KiB.
const maxListSize = 32 << 20

// Resolve fetches, verifies and remembers the list of trust block t, and
// returns the list in force. Read the results together:
//
//   - acc != nil, err == nil: acc is in force (see acc.Origin); show warnings.
//   - acc != nil, err != nil: the fetched list was refused (err is a
//     *Refusal) or could not be remembered; the last accepted list acc stays
//     in force, and the run must report err as a failure. A forged or
//     rolled-back list therefore never revokes images.
//   - acc == nil, err != nil: no valid list is in force (none accepted yet,
//     or the last accepted one has expired: errors.Is(err, ErrExpired)).
//
// A nil client means http.DefaultClient.
func Resolve(ctx context.Context, t *spec.Trust, listsDir string, now time.Time, client *http.Client) (*Accepted, []string, error) {
	last, err := LoadRemembered(listsDir, t.Name)
	if err != nil {
		return nil, nil, err
	}
	pol := PolicyFor(t, last)
	f, err := fetchList(ctx, client, t.List, last)
	if err != nil {
		acc, rerr := inForce(t, last, pol, now, OriginRemembered)
		if rerr != nil {
			return nil, nil, fmt.Errorf("%w: trust %q: %w; %w", ErrFetch, t.Name, err, rerr)
		}
		return acc, []string{fmt.Sprintf("trust %q: %v; using the last accepted list (hv:version %s, expires %s)",
			t.Name, err, acc.Version, acc.Expires.Format(dateLayout))}, nil
	}
	if f.notModified {
		acc, err := inForce(t, last, pol, now, OriginNotModified)
		return acc, nil, err
	}
	v, verr := Verify(f.body, pol, now)
	if verr != nil {
		return refused(t, last, pol, now, verr)
	}
	acc := accept(t.Name, t.List, v, OriginFetched)
	if err := remember(t.Name, t.List, v, f.etag, f.lastModified, now).Save(listsDir); err != nil {
		return acc, nil, err
	}
	return acc, nil, nil
}

// PolicyFor is what trust block t requires of its list; last is the list
// accepted before (nil when none), for rollback protection.
func PolicyFor(t *spec.Trust, last *Remembered) Policy {
	return Policy{CADir: t.CADir, EndorserDN: t.EndorserDN, EndorserCA: t.EndorserCA, ListID: t.ListID,
		AllowSHA1: t.AllowSHA1, CRL: t.CRL, ListURL: t.List, LastAccepted: last}
}

// refused keeps the last accepted list in force after a fetched list failed
// verification.
func refused(t *spec.Trust, last *Remembered, pol Policy, now time.Time, verr error) (*Accepted, []string, error) {
	acc, rerr := inForce(t, last, pol, now, OriginRemembered)
	if rerr != nil {
		return nil, nil, verr
	}
	return acc, []string{fmt.Sprintf("trust %q: the fetched list was refused; the last accepted list (hv:version %s, expires %s) stays in force",
		t.Name, acc.Version, acc.Expires.Format(dateLayout))}, verr
}

// inForce re-verifies the remembered list: it may have expired since, or
// its signer been revoked by a newer CRL.
func inForce(t *spec.Trust, last *Remembered, pol Policy, now time.Time, origin Origin) (*Accepted, error) {
	if last == nil {
		return nil, fmt.Errorf("trust %q: no list was accepted before", t.Name)
	}
	pol.ListURL = last.URL + " (last accepted copy)"
	v, err := Verify(last.Raw, pol, now)
	if err != nil {
		return nil, err
	}
	return accept(t.Name, t.List, v, origin), nil
}

type fetched struct {
	body               []byte
	etag, lastModified string
	notModified        bool
}

// fetchList reads an http, https or file list. Conditional headers are
// sent only when the remembered copy came from the same URL.
func fetchList(ctx context.Context, client *http.Client, rawURL string, last *Remembered) (fetched, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fetched{}, fmt.Errorf("list URL %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file", "":
		if err := ctx.Err(); err != nil {
			return fetched{}, err
		}
		b, err := readLimited(os.Open(u.Path))
		return fetched{body: b}, err
	case "http", "https":
		return fetchHTTP(ctx, client, rawURL, last)
	}
	return fetched{}, fmt.Errorf("list URL %q: scheme %q is not http, https or file", rawURL, u.Scheme)
}

func fetchHTTP(ctx context.Context, client *http.Client, rawURL string, last *Remembered) (fetched, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fetched{}, err
	}
	if last != nil && last.URL == rawURL {
		if last.ETag != "" {
			req.Header.Set("If-None-Match", last.ETag)
		}
		if last.LastModified != "" {
			req.Header.Set("If-Modified-Since", last.LastModified)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fetched{}, fmt.Errorf("fetch list: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && last != nil:
		return fetched{notModified: true}, nil
	case resp.StatusCode != http.StatusOK:
		return fetched{}, fmt.Errorf("fetch list %s: HTTP %s", rawURL, resp.Status)
	}
	b, err := readLimited(resp.Body, nil)
	return fetched{body: b, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}, err
}

func readLimited(r io.ReadCloser, err error) ([]byte, error) {
	if err != nil {
		return nil, fmt.Errorf("read list: %w", err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxListSize+1))
	if err != nil {
		return nil, fmt.Errorf("read list: %w", err)
	}
	if len(b) > maxListSize {
		return nil, errors.New("read list: larger than 32 MiB; this is not an image list")
	}
	return b, nil
}
