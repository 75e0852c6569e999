package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// TestApplyConverges: a first apply fetches, a second does nothing and says so.
func TestApplyConverges(t *testing.T) {
	a, da := testutil.Image(t, 300<<10, 1)
	b, db := testutil.Image(t, 200<<10, 2)
	h := newHost(t)
	fa, fb := h.serve("ma", a), h.serve("mb", b)
	e := h.engine(h.img("a", a, da, "ma"), h.img("b", b, db, "mb"))
	_, res := h.apply(e)
	if diff := cmp.Diff(map[string]string{"a": "fetched", "b": "fetched"}, statuses(res)); diff != "" {
		t.Fatalf("first apply (-want +got):\n%s", diff)
	}
	if res.Changed != 2 || res.Failed != 0 || !bytes.Equal(h.installed("a"), a) || !bytes.Equal(h.installed("b"), b) {
		t.Fatalf("first apply: changed %d failed %d, or wrong content installed", res.Changed, res.Failed)
	}
	if got := res.Summary(); got != "Apply: 2 fetched, 0 replaced, 0 removed, 0 failed" {
		t.Errorf("Summary = %q", got)
	}
	p, res := h.apply(e)
	if p.Changes() || res.Changed != 0 || fa.Calls()+fb.Calls() != 2 {
		t.Errorf("second apply: changes %t, changed %d, fetch calls %d; want nothing", p.Changes(), res.Changed, fa.Calls()+fb.Calls())
	}
	if got := res.Summary(); !strings.HasSuffix(got, "nothing to do, host is converged") {
		t.Errorf("second Summary = %q", got)
	}
}

// TestApplyWrongDigest: bytes that fail verification are never installed,
// the previous version stays, and the other images are not stopped.
func TestApplyWrongDigest(t *testing.T) {
	v1, d1 := testutil.Image(t, 100<<10, 1)
	v2, d2 := testutil.Image(t, 100<<10, 2)
	other, dOther := testutil.Image(t, 50<<10, 3)
	h := newHost(t)
	installed(h, v1, h.img("a", v1, d1, "m"))
	h.serve("m", v2, fetcherstest.Fault{Kind: fetcherstest.CorruptAt, At: 5000})
	h.serve("o", other)
	_, res := h.apply(h.engine(h.img("a", v2, d2, "m"), h.img("other", other, dOther, "o")))
	if diff := cmp.Diff(map[string]string{"a": "failed", "other": "fetched"}, statuses(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if !bytes.Equal(h.installed("a"), v1) {
		t.Error("the previous version of a is no longer installed")
	}
	if _, ok := h.store.Blob(d2); ok {
		t.Error("a blob exists for bytes that failed verification")
	}
	for _, o := range res.Outcomes {
		if o.Image == "a" && (!errors.Is(o.Err, store.ErrDigestMismatch) || !cmp.Equal(o.BadSources, []string{"mirror.m"})) {
			t.Errorf("outcome of a: err %v, bad sources %v", o.Err, o.BadSources)
		}
	}
	st, _ := h.store.LoadState()
	if st.Images["a"].Digest != d1 {
		t.Errorf("state records %s for a, want the previous %s", st.Images["a"].Digest, d1)
	}
}

// TestApplyCommittedHook: Committed sees each verified blob before it is
// installed, and never bytes that failed verification.
func TestApplyCommittedHook(t *testing.T) {
	good, dGood := testutil.Image(t, 100<<10, 6)
	bad, dBad := testutil.Image(t, 100<<10, 7)
	h := newHost(t)
	h.serve("good", good)
	h.serve("bad", bad, fetcherstest.Fault{Kind: fetcherstest.CorruptAt, At: 5000})
	e := h.engine(h.img("good", good, dGood, "good"), h.img("bad", bad, dBad, "bad"))
	var mu sync.Mutex
	var seen []string
	e.Committed = func(img *spec.Image, b store.Blob, sources []string) {
		mu.Lock()
		defer mu.Unlock()
		_, err := os.Stat(img.Install)
		seen = append(seen, fmt.Sprintf("%s %s installed:%t from %v", img.Name, b.Digest.Short(), err == nil, sources))
		if got, ok := h.store.Blob(b.Digest); !ok || got.Path != b.Path {
			t.Errorf("Committed(%s): blob %+v not in the store", img.Name, b)
		}
	}
	h.apply(e)
	if want := []string{"good " + dGood.Short() + " installed:false from [mirror.good]"}; !cmp.Equal(seen, want) {
		t.Errorf("Committed calls %q, want %q", seen, want)
	}
}

// TestApplyExcludesBadSource: after a source sends bad bytes, the image is
// fetched again from the others and the culprit is named.
func TestApplyExcludesBadSource(t *testing.T) {
	v, d := testutil.Image(t, 300<<10, 4)
	h := newHost(t)
	bad := h.serve("bad", v, fetcherstest.Fault{Kind: fetcherstest.CorruptAt, At: 200 << 10})
	h.serve("good", v)
	_, res := h.apply(h.engine(h.img("a", v, d, "bad", "good")))
	o := res.Outcomes[0]
	if o.Status != "fetched" || !cmp.Equal(o.BadSources, []string{"mirror.bad"}) || bad.Calls() != 1 {
		t.Fatalf("outcome %+v, bad source calls %d", o, bad.Calls())
	}
	if !bytes.Equal(h.installed("a"), v) {
		t.Error("wrong content installed")
	}
}

// TestApplyResumesAcrossSources: a fallback continues from the staged bytes.
func TestApplyResumesAcrossSources(t *testing.T) {
	v, d := testutil.Image(t, 512<<10, 5)
	h := newHost(t)
	h.serve("first", v, fetcherstest.Fault{Kind: fetcherstest.FailAfter, At: 128 << 10,
		Err: fetchers.Permanentf("injected: %w", fetchers.ErrNotFound)})
	second := h.serve("second", v)
	_, res := h.apply(h.engine(h.img("a", v, d, "first", "second")))
	want := []fetcherstest.Span{{Off: 128 << 10, N: 384 << 10}}
	if diff := cmp.Diff(want, second.Served()); diff != "" || res.Outcomes[0].Status != "fetched" {
		t.Errorf("second source served (-want +got):\n%s\noutcome %+v", diff, res.Outcomes[0])
	}
}

// TestPreflightRefuses: nothing is fetched when the store cannot hold it.
func TestPreflightRefuses(t *testing.T) {
	h := newHost(t)
	f := h.serve("m", nil)
	huge := &spec.Image{Name: "huge", Digest: mustDigest(t), Size: 1 << 60, Install: h.installPath("huge"),
		Sources: []spec.Source{{Kind: spec.SourceMirror, Name: "m"}}}
	e := h.engine(huge)
	p, err := e.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Apply(context.Background(), p)
	if !errors.Is(err, engine.ErrNoSpace) || !testutil.ErrorContains(err, "nothing was downloaded") {
		t.Errorf("Apply: %v, want ErrNoSpace saying nothing was downloaded", err)
	}
	if f.Calls() != 0 || fileExists(h.store.StagingPath(huge.Digest)) {
		t.Error("something was fetched or staged despite the refusal")
	}
}

func mustDigest(t *testing.T) digest.Digest { _, d := testutil.Image(t, 1, 99); return d }

var digestCmp = cmp.Comparer(func(a, b digest.Digest) bool { return a == b })

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestApplyRemoves: an image that left the spec is removed, unless someone
// replaced its file since.
func TestApplyRemoves(t *testing.T) {
	a, da := testutil.Image(t, 10<<10, 1)
	b, db := testutil.Image(t, 10<<10, 2)
	h := newHost(t)
	h.serve("m", a)
	h.serve("n", b)
	h.apply(h.engine(h.img("a", a, da, "m"), h.img("b", b, db, "n")))
	// Someone replaces b's file with their own.
	tmp := h.installPath("b") + ".mine"
	os.WriteFile(tmp, []byte("mine"), 0o644)
	os.Rename(tmp, h.installPath("b"))
	_, res := h.apply(h.engine())
	if diff := cmp.Diff(map[string]string{"a": "removed", "b": "removed"}, statuses(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if fileExists(h.installPath("a")) || string(h.installed("b")) != "mine" {
		t.Error("a should be gone and b's replacement kept")
	}
	if _, ok := h.store.Blob(da); ok {
		t.Error("the blob of a removed image was not collected")
	}
	st, _ := h.store.LoadState()
	if len(st.Images) != 0 {
		t.Errorf("state still records %v", st.Images)
	}
}

// TestApplyForeignFile: a file prestaged did not install is adopted when it
// is the image, and refused (left alone) otherwise.
func TestApplyForeignFile(t *testing.T) {
	v, d := testutil.Image(t, 20<<10, 6)
	tests := []struct {
		name   string
		status engine.Status
		file   []byte
	}{
		{"same content", "adopted", v},
		{"other content", "failed", []byte("precious data")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			f := h.serve("m", v)
			os.MkdirAll(h.dir+"/images", 0o755)
			os.WriteFile(h.installPath("a"), tt.file, 0o644)
			_, res := h.apply(h.engine(h.img("a", v, d, "m")))
			if res.Outcomes[0].Status != tt.status || f.Calls() != 0 {
				t.Errorf("status %s (err %v), fetch calls %d; want %s, 0", res.Outcomes[0].Status, res.Outcomes[0].Err, f.Calls(), tt.status)
			}
			if tt.status == "failed" && !errors.Is(res.Outcomes[0].Err, store.ErrForeignFile) {
				t.Errorf("error %v, want ErrForeignFile", res.Outcomes[0].Err)
			}
			if !bytes.Equal(h.installed("a"), tt.file) {
				t.Error("the file at the install path changed")
			}
		})
	}
}

// TestVerifyRepairs: verify rehashes what apply trusts, and reinstalls.
func TestVerifyRepairs(t *testing.T) {
	v, d := testutil.Image(t, 64<<10, 7)
	h := newHost(t)
	e := h.appliedEngine("a", v, d)
	fi, _ := os.Stat(h.installPath("a"))
	f, _ := os.OpenFile(h.installPath("a"), os.O_WRONLY, 0)
	f.WriteAt([]byte{^v[100]}, 100)
	f.Close()
	os.Chtimes(h.installPath("a"), fi.ModTime(), fi.ModTime()) // apply would not notice
	if p, _ := e.Plan(context.Background()); p.Changes() {
		t.Fatal("setup: plan noticed the corruption; verify is not needed")
	}
	rep, err := e.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Checked{{Image: "a", Digest: d, Install: h.installPath("a"), InstallOK: false, Blob: "ok", Repair: "reinstalled"}}
	if diff := cmp.Diff(want, rep.Checked, digestCmp); diff != "" {
		t.Errorf("Checked (-want +got):\n%s", diff)
	}
	if rep.Repair.Outcomes[0].Status != "replaced" || !bytes.Equal(h.installed("a"), v) {
		t.Errorf("repair: %+v", rep.Repair.Outcomes[0])
	}
}
