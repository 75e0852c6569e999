package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
	"github.com/prestaged/prestaged/spec"
)

// host is a store, an install directory and fake sources by mirror name.
type host struct {
	t       testing.TB
	dir     string
	store   *store.Store
	sources map[string]fetchers.Fetcher

	mu     sync.Mutex
	events []string
}

func newHost(t testing.TB) *host {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	return &host{t: t, dir: dir, store: st, sources: map[string]fetchers.Fetcher{}}
}

// installPath is where image name is installed.
func (h *host) installPath(name string) string { return filepath.Join(h.dir, "images", name+".img") }

// img is a spec image fetched from the named mirrors, in order.
func (h *host) img(name string, b []byte, d digest.Digest, mirrors ...string) *spec.Image {
	im := &spec.Image{Name: name, Digest: d, Size: int64(len(b)), Path: name, Install: h.installPath(name)}
	for _, m := range mirrors {
		im.Sources = append(im.Sources, spec.Source{Kind: spec.SourceMirror, Name: m})
	}
	return im
}

// serve makes mirror name a Fake serving b.
func (h *host) serve(name string, b []byte, faults ...fetcherstest.Fault) *fetcherstest.Fake {
	f := &fetcherstest.Fake{Content: b, Faults: faults}
	h.sources[name] = f
	return f
}

func (h *host) engine(images ...*spec.Image) *engine.Engine {
	s := &spec.Spec{Store: h.store.Root(), StallTimeout: spec.DefaultStallTimeout, Parallel: 2, Images: images}
	return &engine.Engine{Spec: s, Store: h.store, Sources: engine.SourcesFunc(h.sourcesFunc), Reporter: (*eventLog)(h)}
}

func (h *host) sourcesFunc(_ *spec.Image, src spec.Source) ([]fetchers.Named, error) {
	f, ok := h.sources[src.Name]
	if !ok {
		return nil, fmt.Errorf("no fake for %s", src)
	}
	return []fetchers.Named{{Name: src.String(), Fetcher: f}}, nil
}

// apply plans and applies, failing the test on a run-level error.
func (h *host) apply(e *engine.Engine) (*engine.Plan, *engine.Result) {
	h.t.Helper()
	p, err := e.Plan(context.Background())
	if err != nil {
		h.t.Fatalf("Plan: %v", err)
	}
	res, err := e.Apply(context.Background(), p)
	if err != nil {
		h.t.Fatalf("Apply: %v", err)
	}
	return p, res
}

func (h *host) installed(name string) []byte {
	b, err := os.ReadFile(h.installPath(name))
	if err != nil {
		return nil
	}
	return b
}

// eventLog is a Reporter that keeps events for failure messages.
type eventLog host

func (l *eventLog) Begin(string, int64, int64, func() int64) {}
func (l *eventLog) Event(image, msg string) {
	l.mu.Lock()
	l.events = append(l.events, image+": "+msg)
	l.mu.Unlock()
}
func (l *eventLog) End(engine.Outcome) {}

// statuses is image -> outcome status, for comparing whole results.
func statuses(res *engine.Result) map[string]string {
	m := map[string]string{}
	for _, o := range res.Outcomes {
		m[o.Image] = string(o.Status)
	}
	return m
}
