package engine_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
	"github.com/prestaged/prestaged/internal/testutil"
)

// rot overwrites 4 bytes at 4096 of the store's blob of the image, as a
// failing disk would, keeping its mode and mtime.
func rot(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("ROT!"), 4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Chmod(path, 0o444)
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
}

// A blob that rotted in the store is never installed: the install hashes
// what it copies, removes the blob and fetches the image again, for a new
// install path and for a replace after a consumer changed its copy.
func TestInstallVerifiesOldBlob(t *testing.T) {
	v, d := testutil.Image(t, 256<<10, 21)
	for _, tc := range []string{"install path removed", "installed copy changed"} {
		t.Run(tc, func(t *testing.T) {
			h := newHost(t)
			m := h.serve("m", v)
			e := h.engine(h.img("a", v, d, "m"))
			h.apply(e)
			rot(t, h.store.BlobPath(d))
			if tc == "install path removed" {
				os.Remove(h.installPath("a"))
			} else {
				os.WriteFile(h.installPath("a"), []byte("changed by a consumer"), 0o644)
			}
			_, res := h.apply(e)
			o := res.Outcomes[0]
			if o.Err != nil || !bytes.Equal(h.installed("a"), v) {
				t.Fatalf("outcome %+v; installed content is the image: %t", o, bytes.Equal(h.installed("a"), v))
			}
			if m.Calls() != 2 {
				t.Errorf("mirror called %d times, want 2 (the image fetched again)", m.Calls())
			}
			if good, err := engine.FileHas(context.Background(), h.store.BlobPath(d), d); !good || err != nil {
				t.Errorf("the store's blob after the repair: good %t, %v", good, err)
			}
			if !strings.Contains(strings.Join(h.events, "\n"), "blob failed verification") {
				t.Errorf("no event says the blob failed verification:\n%s", strings.Join(h.events, "\n"))
			}
		})
	}
}

// Verify says what it found, fetches a removed blob again so that the host
// can serve it, and counts that as a change.
func TestVerifyRefetchesBlob(t *testing.T) {
	v, d := testutil.Image(t, 256<<10, 22)
	h := newHost(t)
	m := h.serve("m", v)
	e := h.engine(h.img("a", v, d, "m"))
	h.apply(e)
	installed, _ := os.Stat(h.installPath("a"))
	rot(t, h.store.BlobPath(d))
	rep, err := e.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Checked{{Image: "a", Digest: d, Install: h.installPath("a"), InstallOK: true,
		Blob: "corrupt (removed)", Repair: "blob fetched again"}}
	if diff := cmp.Diff(want, rep.Checked, digestCmp); diff != "" {
		t.Errorf("Checked (-want +got):\n%s", diff)
	}
	if rep.Repair.Changed != 1 || rep.Repair.Failed != 0 || rep.Damaged() != 1 || m.Calls() != 2 {
		t.Errorf("repair changed %d, failed %d, damaged %d, mirror calls %d; want 1, 0, 1, 2",
			rep.Repair.Changed, rep.Repair.Failed, rep.Damaged(), m.Calls())
	}
	if good, err := engine.FileHas(context.Background(), h.store.BlobPath(d), d); !good || err != nil {
		t.Errorf("blob after verify: good %t, %v", good, err)
	}
	if now, _ := os.Stat(h.installPath("a")); !os.SameFile(installed, now) {
		t.Error("verify replaced a good installed file to fetch the blob")
	}
	// Nothing is wrong any more.
	rep, err = e.Verify(context.Background())
	if err != nil || rep.Damaged() != 0 || rep.Repair.Changed != 0 {
		t.Errorf("second verify: damaged %d, changed %d, %v", rep.Damaged(), rep.Repair.Changed, err)
	}
}

// Only the sources whose bytes were wrong are blamed; the image installs
// when one good source exists.
func TestBlameByEvidence(t *testing.T) {
	const size = 4 << 20
	v, d := testutil.Image(t, size, 23)
	dies := fetcherstest.Fault{Kind: fetcherstest.FailAfter, At: 2 << 20, Err: fetchers.Permanentf("injected: %w", fetchers.ErrNotFound)}
	flips := fetcherstest.Fault{Kind: fetcherstest.CorruptAt, At: 1 << 20}
	tests := []struct {
		name    string
		sources map[string][]fetcherstest.Fault
		order   []string
		junk    bool // the staging file holds bad bytes from an earlier run
		want    []string
	}{
		{"bad bytes then fails, good resumes", map[string][]fetcherstest.Fault{"bad": {flips, dies}, "good": nil},
			[]string{"bad", "good"}, false, []string{"mirror.bad"}},
		{"good then fails, bad resumes", map[string][]fetcherstest.Fault{"good": {{Kind: dies.Kind, At: dies.At, Err: dies.Err, Times: 1}},
			"bad": {{Kind: fetcherstest.CorruptAt, At: 3 << 20}}},
			[]string{"good", "bad"}, false, []string{"mirror.bad"}},
		{"sole writer", map[string][]fetcherstest.Fault{"bad": {flips}, "good": nil},
			[]string{"bad", "good"}, false, []string{"mirror.bad"}},
		{"junk from an earlier run", map[string][]fetcherstest.Fault{"good": nil},
			[]string{"good"}, true, nil},
		{"junk and a bad source", map[string][]fetcherstest.Fault{"bad": {{Kind: fetcherstest.CorruptAt, At: 3 << 19}, dies}, "good": nil},
			[]string{"bad", "good"}, true, []string{"mirror.bad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			for name, faults := range tt.sources {
				h.serve(name, v, faults...)
			}
			if tt.junk {
				os.MkdirAll(strings.TrimSuffix(h.store.StagingPath(d), "/"+d.Hex()+".part"), 0o755)
				if err := os.WriteFile(h.store.StagingPath(d), bytes.Repeat([]byte("junk"), 1<<18), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, res := h.apply(h.engine(h.img("a", v, d, tt.order...)))
			o := res.Outcomes[0]
			if o.Err != nil || !bytes.Equal(h.installed("a"), v) {
				t.Fatalf("outcome %+v\nevents:\n%s", o, strings.Join(h.events, "\n"))
			}
			if !cmp.Equal(o.BadSources, tt.want) {
				t.Errorf("bad_sources %q, want %q\nevents:\n%s", o.BadSources, tt.want, strings.Join(h.events, "\n"))
			}
			// The next run is converged: nothing poisoned.
			_, res = h.apply(h.engine(h.img("a", v, d, tt.order...)))
			if res.Changed != 0 || res.Failed != 0 {
				t.Errorf("second run: %+v", res.Outcomes[0])
			}
		})
	}
}

// When every source sends bad bytes, the image fails and names them all.
func TestBlameEveryBadSource(t *testing.T) {
	v, d := testutil.Image(t, 1<<20, 24)
	h := newHost(t)
	h.serve("b1", v, fetcherstest.Fault{Kind: fetcherstest.CorruptAt, At: 100})
	h.serve("b2", v, fetcherstest.Fault{Kind: fetcherstest.CorruptAt, At: 200})
	_, res := h.apply(h.engine(h.img("a", v, d, "b1", "b2")))
	o := res.Outcomes[0]
	if o.Err == nil || !cmp.Equal(o.BadSources, []string{"mirror.b1", "mirror.b2"}) || h.installed("a") != nil {
		t.Fatalf("outcome %+v", o)
	}
}

// An install path moved onto a file prestaged did not install: a different
// file is refused and kept, the image's content is adopted and the old copy
// removed.
func TestMovedInstallPathOntoForeignFile(t *testing.T) {
	v, d := testutil.Image(t, 64<<10, 25)
	for _, tc := range []struct {
		name   string
		there  []byte
		status engine.Status
	}{{"other content", []byte("precious"), engine.StatusFailed}, {"the image", v, engine.StatusAdopted}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t)
			h.serve("m", v)
			im := h.img("a", v, d, "m")
			h.apply(h.engine(im))
			old := im.Install
			moved := *im
			moved.Install = h.installPath("b")
			os.WriteFile(moved.Install, tc.there, 0o644)
			_, res := h.apply(h.engine(&moved))
			o := res.Outcomes[0]
			got, _ := os.ReadFile(moved.Install)
			if o.Status != tc.status || !bytes.Equal(got, tc.there) {
				t.Fatalf("status %s (%v); the file at the new path is intact: %t", o.Status, o.Err, bytes.Equal(got, tc.there))
			}
			_, err := os.Stat(old)
			if oldThere := err == nil; oldThere != (tc.status == engine.StatusFailed) {
				t.Errorf("old install path still there: %t, want %t", oldThere, tc.status == engine.StatusFailed)
			}
		})
	}
}
