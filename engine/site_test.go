// Site integration: hooks after an install, replace or remove, and
// subscriptions to whole image lists.

package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hook.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHooksSeeVmcatcherEvents: a vmcatcher-style handler gets the event
// and the image's fields under vmcatcher's names, after install, replace
// and remove, in spec order, its output logged under the image's name.
func TestHooksSeeVmcatcherEvents(t *testing.T) {
	v1, d1 := testutil.Image(t, 10<<10, 1)
	v2, d2 := testutil.Image(t, 10<<10, 2)
	h := newHost(t)
	h.serve("m", v1)
	seen := filepath.Join(t.TempDir(), "events")
	handler := script(t, `
test -n "$VMCATCHER_EVENT_TYPE" || { echo "no event type"; exit 1; }
test "$VMCATCHER_EVENT_FILENAME" = "$PRESTAGED_INSTALL" || exit 1
echo "first $VMCATCHER_EVENT_TYPE $PRESTAGED_EVENT $VMCATCHER_EVENT_DC_IDENTIFIER $VMCATCHER_EVENT_HV_SIZE $VMCATCHER_EVENT_HV_FORMAT $PRESTAGED_DIGEST" >> `+seen+`
echo "handled $PRESTAGED_IMAGE"
`)
	second := script(t, `echo "second $PRESTAGED_EVENT" >> `+seen)
	img := h.img("disk", v1, d1, "m")
	e := h.engine(img)
	e.Spec.Hooks = []*spec.Hook{
		{Name: "register", Command: []string{handler}, On: spec.Events, Timeout: time.Minute},
		{Name: "refresh", Command: []string{second}, On: []string{spec.EventInstall}, Timeout: time.Minute},
	}
	if _, res := h.apply(e); res.Failed != 0 {
		t.Fatalf("install: %v", h.events)
	}
	h.serve("m", v2)
	img.Digest = d2
	if _, res := h.apply(e); res.Failed != 0 {
		t.Fatalf("replace: %v", h.events)
	}
	e.Spec.Images = nil
	if _, res := h.apply(e); res.Failed != 0 {
		t.Fatalf("remove: %v", h.events)
	}
	b, _ := os.ReadFile(seen)
	want := strings.Join([]string{
		"first AvailablePostfix install disk 10240 raw " + d1.String(),
		"second install",
		"first AvailablePostfix replace disk 10240 raw " + d2.String(),
		"first ExpirePostfix remove disk 10240 raw " + d2.String(),
	}, "\n") + "\n"
	if string(b) != want {
		t.Errorf("hooks saw:\n%s\nwant:\n%s", b, want)
	}
	if !strings.Contains(strings.Join(h.events, "\n"), "disk: hook register: handled disk") {
		t.Errorf("the hook's output is not logged under the image: %v", h.events)
	}
}

// TestFailingHookRunsAgain: a hook that fails, or outlasts its timeout,
// fails the image, leaves the install, and runs again at the next apply
// until it passes.
func TestFailingHookRunsAgain(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"fails", `test -e "$FLAG" || { echo "not yet"; exit 3; }`},
		{"times out", `test -e "$FLAG" || exec sleep 30`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v1, d1 := testutil.Image(t, 10<<10, 1)
			h := newHost(t)
			h.serve("m", v1)
			flag := filepath.Join(t.TempDir(), "flag")
			t.Setenv("FLAG", flag)
			e := h.engine(h.img("disk", v1, d1, "m"))
			e.Spec.Hooks = []*spec.Hook{{Name: "register", Command: []string{script(t, tc.body)}, On: spec.Events, Timeout: 300 * time.Millisecond}}
			_, res := h.apply(e)
			if res.Failed != 1 || h.installed("disk") == nil || !strings.Contains(res.Outcomes[0].Error, `hook "register"`) {
				t.Fatalf("failing hook: %d failed, installed %t, error %q", res.Failed, h.installed("disk") != nil, res.Outcomes[0].Error)
			}
			p, res := h.apply(e)
			if p.Items[0].Code != engine.ReasonHookPending || res.Failed != 1 {
				t.Fatalf("next apply: %+v, %d failed", p.Items, res.Failed)
			}
			os.WriteFile(flag, nil, 0o644)
			if _, res := h.apply(e); res.Failed != 0 {
				t.Fatalf("hook passing: %d failed", res.Failed)
			}
			if p, _ := h.apply(e); p.Items[0].Code != engine.ReasonUnchanged {
				t.Errorf("after the hook passed: %+v", p.Items)
			}
		})
	}
}

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
