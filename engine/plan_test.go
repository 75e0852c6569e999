package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// TestPlanActions: each way the host can differ from the spec gives its action.
func TestPlanActions(t *testing.T) {
	v1, d1 := testutil.Image(t, 64<<10, 1)
	v2, d2 := testutil.Image(t, 64<<10, 2)
	type planned struct{ Action, Reason string }
	tests := []struct {
		name string
		// prepare installs v1 as "a" (via apply) and then meddles; it
		// returns the spec images for the plan under test.
		prepare func(h *host) []*spec.Image
		want    map[string]planned
	}{
		{"not installed", func(h *host) []*spec.Image {
			return []*spec.Image{h.img("a", v1, d1, "m")}
		}, map[string]planned{"a": {"fetch", "not installed"}}},
		{"converged", func(h *host) []*spec.Image {
			return installed(h, v1, h.img("a", v1, d1, "m"))
		}, map[string]planned{"a": {"ok", "installed and unchanged since verification"}}},
		{"new digest", func(h *host) []*spec.Image {
			installed(h, v1, h.img("a", v1, d1, "m"))
			return []*spec.Image{h.img("a", v2, d2, "m")}
		}, map[string]planned{"a": {"replace", "new digest (installed " + d1.Short() + ")"}}},
		{"touched by its user", func(h *host) []*spec.Image {
			imgs := installed(h, v1, h.img("a", v1, d1, "m"))
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(h.installPath("a"), later, later); err != nil {
				t.Fatal(err)
			}
			return imgs
		}, map[string]planned{"a": {"replace", "installed file changed since verification (size, mtime or inode)"}}},
		{"deleted by its user", func(h *host) []*spec.Image {
			imgs := installed(h, v1, h.img("a", v1, d1, "m"))
			os.Remove(h.installPath("a"))
			return imgs
		}, map[string]planned{"a": {"fetch", "install path missing"}}},
		{"left the spec", func(h *host) []*spec.Image {
			installed(h, v1, h.img("a", v1, d1, "m"))
			return []*spec.Image{h.img("b", v2, d2, "m")}
		}, map[string]planned{"a": {"remove", "no longer in the spec"}, "b": {"fetch", "not installed"}}},
		{"foreign file at the install path", func(h *host) []*spec.Image {
			os.MkdirAll(h.dir+"/images", 0o755)
			os.WriteFile(h.installPath("a"), []byte("someone else's"), 0o644)
			return []*spec.Image{h.img("a", v1, d1, "m")}
		}, map[string]planned{"a": {"fetch", "install path holds a file prestaged did not install: adopted if it matches, else refused"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			h.serve("m", v1)
			images := tt.prepare(h)
			p, err := h.engine(images...).Plan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]planned{}
			for _, it := range p.Items {
				got[it.Image] = planned{it.Action.String(), it.Reason}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// installed serves b from the image's first mirror, applies it on h and
// returns it as a one-image spec.
func installed(h *host, b []byte, im *spec.Image) []*spec.Image {
	h.t.Helper()
	h.serve(im.Sources[0].Name, b)
	if _, res := h.apply(h.engine(im)); res.Failed > 0 {
		h.t.Fatalf("setup apply failed: %+v", res.Outcomes)
	}
	return []*spec.Image{im}
}

func TestPlanSummaryAndDescribe(t *testing.T) {
	p := &engine.Plan{Items: []engine.Item{
		{Image: "a", Action: engine.ActionFetch, Reason: "not installed", Size: 10, Sources: []string{"parents", "mirror.m"}},
		{Image: "b", Action: engine.ActionReplace, Reason: "new digest", Size: 10, Staged: 10},
		{Image: "c", Action: engine.ActionOK, Reason: "installed"},
	}}
	got := []string{p.Summary(), p.Items[0].Describe(), p.Items[1].Describe(), p.Items[2].Describe()}
	want := []string{
		"Plan: 1 to fetch, 1 to replace, 0 to remove.",
		"fetch    a: not installed (from parents, then mirror.m)",
		"replace  b: new digest (verified blob already in the store)",
		"ok       c: installed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !p.Changes() || (&engine.Plan{Items: p.Items[2:]}).Changes() {
		t.Error("Changes: want true with a fetch, false with only ok")
	}
	if !strings.HasPrefix(spec.FormatBytes(3<<30), "3.0 GiB") || spec.FormatBytes(512) != "512 B" {
		t.Errorf("FormatBytes: %s, %s", spec.FormatBytes(3<<30), spec.FormatBytes(512))
	}
}

// A plan is data: it round-trips through JSON, reason codes and problems
// included, and problems stay errors until rendered.
func TestPlanRoundTripsJSON(t *testing.T) {
	v, d := testutil.Image(t, 64<<10, 9)
	h := newHost(t)
	h.serve("m", v)
	e := h.engine(h.img("a", v, d, "m"))
	p, err := e.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.Problems.Add(&engine.ImageError{Image: "b", Err: fmt.Errorf("no list: %w", engine.ErrNoList)})
	if !errors.Is(p.Problems[0], engine.ErrNoList) || p.Items[0].Code != engine.ReasonNotInstalled {
		t.Fatalf("problem %v, code %q", p.Problems[0], p.Items[0].Code)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back engine.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Errorf("plan JSON changed in a round trip:\n%s\n%s", b, b2)
	}
	if !strings.Contains(string(b), `"code":"not-installed"`) || !strings.Contains(string(b), `"problems":["image b: no list: no image list in force"]`) {
		t.Errorf("plan JSON lacks the code or the problem:\n%s", b)
	}
}
