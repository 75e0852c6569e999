package main

import (
	"context"
	"fmt"
	"net/url"
	"path"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/mirror"
	"github.com/prestaged/prestaged/spec"
)

// sourceMakers build the fetchers for one kind of source. Files that add a
// source kind (parents, torrent) register theirs here.
var sourceMakers = map[spec.SourceKind]func(s *spec.Spec, img *spec.Image, src spec.Source) ([]fetchers.Named, error){
	spec.SourceMirror:   mirrorSource,
	spec.SourceEndorsed: endorsedSource,
}

// newSources is the one place concrete fetchers are chosen. Each maker
// returns its fetchers already wrapped as that kind of source needs: a
// mirror with stall detection and retry, a parent with neither (it has its
// own stall handling, and an absent parent must be left at once).
func newSources(s *spec.Spec) engine.Sources {
	return func(img *spec.Image, src spec.Source) ([]fetchers.Named, error) {
		mk, ok := sourceMakers[src.Kind]
		if !ok {
			return nil, fmt.Errorf("source %s is not supported by this build", src)
		}
		return mk(s, img, src)
	}
}

// robust adds stall detection and retry with backoff.
func robust(s *spec.Spec, f fetchers.Fetcher) fetchers.Fetcher {
	return fetchers.WithRetry(fetchers.WithStallTimeout(f, s.StallTimeout), fetchers.RetryPolicy{})
}

func mirrorSource(s *spec.Spec, _ *spec.Image, src spec.Source) ([]fetchers.Named, error) {
	f, err := specMirror(s, src.Name)
	if err != nil {
		return nil, err
	}
	return []fetchers.Named{{Name: src.String(), Fetcher: robust(s, f)}}, nil
}

// specMirror is the spec's mirror called name.
func specMirror(s *spec.Spec, name string) (*mirror.Mirror, error) {
	for _, m := range s.Mirrors {
		if m.Name == name {
			return mirror.New(m.Name, m.URL)
		}
	}
	return nil, fmt.Errorf("no mirror %q in the spec", name)
}

// endorsedSource fetches from the hv:uri the image list gives.
func endorsedSource(s *spec.Spec, img *spec.Image, _ spec.Source) ([]fetchers.Named, error) {
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
	at := robust(s, fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
		req.Path = file
		return f.Fetch(ctx, req, dst)
	}))
	return []fetchers.Named{{Name: "endorsed " + img.EndorsedURI, Fetcher: at}}, nil
}
