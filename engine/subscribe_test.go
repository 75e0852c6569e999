package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// fakeLists is a TrustResolver whose subscription holds what a test says.
type fakeLists struct{ sub *engine.Subscription }

func (f *fakeLists) Resolve(_ context.Context, s *spec.Spec) (*engine.Endorsements, error) {
	end := &engine.Endorsements{Images: map[string]engine.Endorsed{}, Subscriptions: map[string]engine.Subscription{}}
	if f.sub != nil {
		end.Subscriptions["egi"] = *f.sub
		for _, img := range s.Images {
			if en, ok := f.sub.Images[img.ID]; ok {
				end.Images[img.Name] = en
			}
		}
	}
	return end, nil
}

// TestSubscriptionFollowsTheList: a subscription installs every image of
// the list at install_dir/<id> with the trust's defaults, an image block
// naming an id overrides them, an image the list drops is removed, and
// with no list in force nothing is removed.
func TestSubscriptionFollowsTheList(t *testing.T) {
	h := newHost(t)
	dir := filepath.Join(h.dir, "datastore")
	lists := &fakeLists{sub: &engine.Subscription{Version: "1", Images: map[string]engine.Endorsed{}}}
	data := map[string][]byte{}
	for i, id := range []string{"alpha", "beta", "gamma"} {
		b, d := testutil.Image(t, 20<<10, uint64(i+1))
		data[id] = b
		h.serve(id, b)
		lists.sub.Images[id] = engine.Endorsed{Digest: d, Size: int64(len(b)), Fields: map[string]string{"dc:identifier": id}}
	}
	trust := &spec.Trust{Name: "egi", Subscribe: true, InstallDir: dir,
		Defaults: spec.InstallOptions{InstallFormat: spec.InstallPublished, Mode: 0o600, OnChange: spec.OnChangeRestore}}
	override := &spec.Image{Name: "gamma-here", Trust: "egi", ID: "gamma", Install: filepath.Join(h.dir, "gamma.img"),
		InstallOptions: spec.InstallOptions{InstallFormat: spec.InstallPublished, Mode: 0o644}}
	e := h.engine(override)
	e.Spec.Trusts, e.Trust = []*spec.Trust{trust}, lists
	e.Sources = engine.SourcesFunc(func(img *spec.Image, _ spec.Source) ([]fetchers.Named, error) {
		return []fetchers.Named{{Name: "mirror.by-id", Fetcher: h.sources[img.ID]}}, nil
	})
	trust.Sources = []spec.Source{{Kind: spec.SourceMirror, Name: "by-id"}}
	override.Sources = trust.Sources

	first := *lists.sub
	_, res := h.apply(e)
	if res.Failed != 0 || res.Changed != 3 {
		t.Fatalf("first apply: %d changed, %d failed: %v", res.Changed, res.Failed, h.events)
	}
	for _, id := range []string{"alpha", "beta"} {
		got, err := os.ReadFile(filepath.Join(dir, id))
		fi, _ := os.Stat(filepath.Join(dir, id))
		if err != nil || !bytes.Equal(got, data[id]) || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", id, err, fi.Mode())
		}
	}
	if got, _ := os.ReadFile(override.Install); !bytes.Equal(got, data["gamma"]) {
		t.Errorf("the image block naming gamma did not install it at its own path")
	}
	if _, err := os.Stat(filepath.Join(dir, "gamma")); err == nil {
		t.Errorf("gamma installed by the subscription too")
	}

	lists.sub = nil // no list in force: nothing removed
	if _, res := h.apply(e); res.Changed != 0 {
		t.Fatalf("no list in force: %d changed", res.Changed)
	}
	lists.sub = &engine.Subscription{Version: "2", Images: map[string]engine.Endorsed{"alpha": first.Images["alpha"]}}
	p, res := h.apply(e)
	if res.Failed != 0 {
		t.Fatalf("beta dropped: %v", h.events)
	}
	if _, err := os.Stat(filepath.Join(dir, "beta")); err == nil {
		t.Errorf("beta, dropped from the list, is still installed: %+v", p.Items)
	}
	if _, err := os.Stat(filepath.Join(dir, "alpha")); err != nil {
		t.Errorf("alpha, still listed, was removed")
	}
}
