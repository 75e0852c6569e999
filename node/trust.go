package node

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/trust"
	"github.com/prestaged/prestaged/fetchers/peer"
	"github.com/prestaged/prestaged/internal/safe"
	"github.com/prestaged/prestaged/spec"
)

// An endorsed image has no digest in the spec: serve takes it from the last
// list `apply` accepted for its trust block (<store>/lists/<trust>.json),
// verified again offline, and only while that list has not expired. serve
// never fetches lists: what it serves follows what this host accepted.
// apply may accept a newer list while serve runs, and a list may expire, so
// a watcher re-reads the remembered lists when one changes or expires.

// listsPoll is how often the watcher looks at the remembered lists (a stat
// of each); a child asking for a blob serve does not offer yet moves on to
// its next source, so a short delay costs little.
const listsPoll = 2 * time.Second

// listWatcher is a node's watcher of the remembered lists; configure
// replaces it on every (re)configuration.
type listWatcher struct {
	log  *slog.Logger // serve's
	mu   sync.Mutex
	stop context.CancelFunc
}

// serveAllowed sets what srv serves, the pinned digests and those of the
// endorsed images, tells endorsed (the torrent seeder) the endorsed images,
// and (re)starts the watcher. It returns how many digests are served.
func (w *listWatcher) serveAllowed(srv *peer.Server, s *spec.Spec, pinned map[digest.Digest]int64, endorsed func(map[digest.Digest]seedImage)) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	if len(s.Trusts) == 0 {
		srv.SetAllowed(pinned)
		endorsed(nil)
		return len(pinned)
	}
	listsDir := filepath.Join(s.Store, "lists")
	publish := func(now time.Time) (served int, next time.Time) {
		images, next := endorsedImages(s, listsDir, now, w.log)
		allowed := maps.Clone(pinned)
		for d, img := range images {
			allowed[d] = img.size
		}
		srv.SetAllowed(allowed)
		endorsed(images)
		return len(allowed), next
	}
	served, next := publish(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	w.watch(ctx, s, listsDir, next, publish)
	return served
}

// watch publishes the served set again when a remembered list changes
// or the earliest one in use expires, until ctx is cancelled.
func (w *listWatcher) watch(ctx context.Context, s *spec.Spec, listsDir string, next time.Time, publish func(time.Time) (int, time.Time)) {
	seen := listsStamp(s, listsDir)
	safe.Tick(ctx, listsPoll, func(now time.Time) {
		stamp := listsStamp(s, listsDir)
		if stamp == seen && (next.IsZero() || now.Before(next)) {
			return
		}
		w.mu.Lock()
		if ctx.Err() == nil { // not replaced by a reload meanwhile
			var served int
			served, next = publish(now)
			w.log.Info("endorsed images re-read from the accepted lists", "served", served)
		}
		w.mu.Unlock()
		seen = stamp
	})
}

// listsStamp changes when any remembered list of the spec is written.
func listsStamp(s *spec.Spec, listsDir string) string {
	var b []byte
	for _, t := range s.Trusts {
		fi, err := os.Stat(trust.RememberedPath(listsDir, t.Name))
		if err != nil {
			b = append(b, '-')
			continue
		}
		b = fmt.Appendf(b, "%d.%d;", fi.ModTime().UnixNano(), fi.Size())
	}
	return string(b)
}

// endorsedImages returns, by digest, every endorsed image whose trust block
// has a remembered list that still verifies now, and the earliest expiry of
// those lists (zero when none is used).
func endorsedImages(s *spec.Spec, listsDir string, now time.Time, log *slog.Logger) (map[digest.Digest]seedImage, time.Time) {
	images := map[digest.Digest]seedImage{}
	var next time.Time
	for _, t := range s.Trusts {
		l, err := acceptedList(t, listsDir, now)
		if err != nil {
			log.Warn("not serving the endorsed images of a trust block", "trust", t.Name, "err", err)
			continue
		}
		if l == nil {
			continue // apply has not accepted a list yet
		}
		if next.IsZero() || l.Expires.Before(next) {
			next = l.Expires
		}
		for _, img := range s.Images {
			if img.Trust != t.Name {
				continue
			}
			if d, si, ok := endorsedImage(l, img); ok {
				images[d] = si
			}
		}
	}
	return images, next
}

// acceptedList re-verifies the remembered list of t (signature, chain,
// CRLs, endorser, dates) as apply accepted it; nil when there is none.
func acceptedList(t *spec.Trust, listsDir string, now time.Time) (*trust.List, error) {
	last, err := trust.LoadRemembered(listsDir, t.Name)
	if err != nil || last == nil {
		return nil, err
	}
	pol := trust.PolicyFor(t, last)
	pol.ListURL = last.URL + " (last accepted copy)"
	v, err := trust.Verify(last.Raw, pol, now)
	if err != nil {
		return nil, err
	}
	return v.List, nil
}

// endorsedImage is how the store addresses img as list l gives it (as apply
// does), and what its torrent is made of. The torrent's file name is the
// base name of the list's hv:uri, the file the endorser published, so hosts
// that subscribe to the list agree on its info-hash whatever their specs
// call the image, and it is the one `prestaged torrent make` gives for that
// file; without an hv:uri it is the base name of the image's path.
func endorsedImage(l *trust.List, img *spec.Image) (digest.Digest, seedImage, bool) {
	im := l.Image(img.ID)
	if im == nil {
		return digest.Digest{}, seedImage{}, false // revoked: no longer in the list
	}
	sha512, sha256, err := im.Digests()
	if err != nil {
		return digest.Digest{}, seedImage{}, false
	}
	name := path.Base(img.Path)
	if u, err := url.Parse(im.URI); err == nil && strings.Trim(path.Base(u.Path), "/.") != "" {
		name = path.Base(u.Path)
	}
	return trust.Image{SHA512: sha512, SHA256: sha256}.Digest(), seedImage{name: name, size: im.Size}, true
}
