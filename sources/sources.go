// Package sources is the one place concrete fetchers are chosen: for each
// source an image names (a mirror, its parents, the swarm, its endorsed
// URL) it gives the names Plan shows and the fetchers Apply runs, each
// wrapped as that kind of source needs.
//
// A Set lives for one apply, plan or status. Names has no side effects
// (plan and status open no socket and start no client); the swarm starts
// with the first torrent fetcher, and Close stops it.
package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"sync"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/mirror"
	"github.com/prestaged/prestaged/fetchers/torrent"
	"github.com/prestaged/prestaged/spec"
)

// Set is the sources of a spec for one apply, plan or status.
type Set struct {
	spec  *spec.Spec
	store *store.Store
	log   *slog.Logger // the swarm's events, and what cannot be kept

	mu       sync.Mutex
	swarm    *torrent.Swarm // started by the first torrent fetcher
	swarmErr error
	started  bool
	closed   bool
	metainfo sync.Map // digest -> metainfo of an image fetched whole from the swarm
}

// New is the sources of s, whose by-products (a swarm's metainfo) go to st.
// log receives the swarm's events; nil discards them.
func New(s *spec.Spec, st *store.Store, log *slog.Logger) *Set {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Set{spec: s, store: st, log: log}
}

// kinds are the source kinds: what Names and Fetchers do for each.
var kinds = map[spec.SourceKind]struct {
	names    func(x *Set, img *spec.Image, src spec.Source) ([]string, error)
	fetchers func(x *Set, img *spec.Image, src spec.Source) ([]fetchers.Named, error)
}{
	spec.SourceMirror:   {mirrorNames, mirrorSource},
	spec.SourceEndorsed: {endorsedNames, endorsedSource},
	spec.SourceParents:  {parentNames, parentSources},
	spec.SourceTorrent:  {torrentNames, torrentSource},
}

// Names are the names of the fetchers src gives img, in order, without
// building them.
func (x *Set) Names(img *spec.Image, src spec.Source) ([]string, error) {
	k, ok := kinds[src.Kind]
	if !ok {
		return nil, fmt.Errorf("source %s is not supported by this build", src)
	}
	return k.names(x, img, src)
}

// Fetchers builds the fetchers src gives img.
func (x *Set) Fetchers(img *spec.Image, src spec.Source) ([]fetchers.Named, error) {
	k, ok := kinds[src.Kind]
	if !ok {
		return nil, fmt.Errorf("source %s is not supported by this build", src)
	}
	return k.fetchers(x, img, src)
}

// Close stops what the fetchers started (the swarm). The Set builds no
// fetcher after it.
func (x *Set) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closed = true
	if x.swarm != nil {
		return x.swarm.Close()
	}
	return nil
}

var errClosed = errors.New("sources: closed")

// robust adds stall detection and retry with backoff. The four waits
// between five failed attempts (about 15 first intervals) add up to at
// most the stall_timeout, so a source refusing connections is left as
// soon as one that stopped sending would be.
func robust(s *spec.Spec, f fetchers.Fetcher) fetchers.Fetcher {
	return fetchers.WithRetry(fetchers.WithStallTimeout(f, s.StallTimeout), retryPolicy(s))
}

func retryPolicy(s *spec.Spec) fetchers.RetryPolicy {
	p := fetchers.RetryPolicy{}
	if s.StallTimeout > 0 {
		p.InitialInterval = min(fetchers.DefaultInitialInterval, s.StallTimeout/15)
	}
	return p
}

func mirrorNames(x *Set, _ *spec.Image, src spec.Source) ([]string, error) {
	if _, err := SpecMirror(x.spec, src.Name); err != nil {
		return nil, err
	}
	return []string{src.String()}, nil
}

func mirrorSource(x *Set, _ *spec.Image, src spec.Source) ([]fetchers.Named, error) {
	f, err := SpecMirror(x.spec, src.Name)
	if err != nil {
		return nil, err
	}
	return []fetchers.Named{{Name: src.String(), Fetcher: robust(x.spec, f)}}, nil
}

// SpecMirror is the spec's mirror called name.
func SpecMirror(s *spec.Spec, name string) (*mirror.Mirror, error) {
	for _, m := range s.Mirrors {
		if m.Name == name {
			return mirror.New(m.Name, m.URL)
		}
	}
	return nil, fmt.Errorf("no mirror %q in the spec", name)
}

func endorsedNames(_ *Set, img *spec.Image, _ spec.Source) ([]string, error) {
	if img.EndorsedURI == "" {
		return nil, nil
	}
	return []string{"endorsed " + img.EndorsedURI}, nil
}

// endorsedSource fetches from the hv:uri the image list gives.
func endorsedSource(x *Set, img *spec.Image, _ spec.Source) ([]fetchers.Named, error) {
	if img.EndorsedURI == "" {
		return nil, nil
	}
	u, err := url.Parse(img.EndorsedURI)
	if err != nil {
		return nil, fmt.Errorf("endorsed uri %q: %w", img.EndorsedURI, err)
	}
	file := path.Base(u.Path)
	u.Path = path.Dir(u.Path) + "/"
	f, err := mirror.New("endorsed", u.String())
	if err != nil {
		return nil, err
	}
	at := robust(x.spec, fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
		req.Path = file
		return f.Fetch(ctx, req, dst)
	}))
	return []fetchers.Named{{Name: "endorsed " + img.EndorsedURI, Fetcher: at}}, nil
}
