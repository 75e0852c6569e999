package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// replant removes path and plants p there.
func replant(t *testing.T, path string, plant func(testing.TB, string) string) string {
	t.Helper()
	testutil.Must(t, os.RemoveAll(path))
	testutil.Must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	return plant(t, path)
}

// applyWithin plans and applies with a bound: an open that blocks on a
// FIFO, or a hash of /dev/zero, fails the test instead of hanging it.
func applyWithin(t *testing.T, e *engine.Engine) *engine.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type done struct {
		res *engine.Result
		err error
	}
	ch := make(chan done, 1)
	go func() {
		p, err := e.Plan(ctx)
		if err != nil {
			ch <- done{nil, err}
			return
		}
		res, err := e.Apply(ctx, p)
		ch <- done{res, err}
	}()
	select {
	case d := <-ch:
		if d.err != nil {
			t.Fatalf("apply: %v", d.err)
		}
		return d.res
	case <-time.After(15 * time.Second):
		t.Fatal("apply still running after 15 s")
	}
	return nil
}

// wantRefused checks that the only outcome failed with ErrNotRegular,
// naming the image and path.
func wantRefused(t *testing.T, res *engine.Result, image, path string) {
	t.Helper()
	o := res.Outcomes[0]
	if o.Status != "failed" || !errors.Is(o.Err, store.ErrNotRegular) ||
		!strings.Contains(o.Error, "image "+image) || !strings.Contains(o.Error, path) {
		t.Errorf("outcome %s: %v; want failed with %v naming image %s and %s", o.Status, o.Err, store.ErrNotRegular, image, path)
	}
}

// TestApplyRefusesNonRegularInstall: a symlink, FIFO or directory at an
// install path is someone else's: apply refuses it, quickly, twice, and
// neither renames over it nor follows it. The "not installed" cases go
// through adopt (engine/fetch.go), which must open with store.OpenRegular.
func TestApplyRefusesNonRegularInstall(t *testing.T) {
	v, d := testutil.Image(t, 64<<10, 30)
	situations := []struct {
		name  string
		setup func(h *host, im *spec.Image) (path string)
	}{
		{"not installed", func(h *host, im *spec.Image) string { return im.Install }},
		{"replaced after install", func(h *host, im *spec.Image) string {
			installed(h, v, im)
			return im.Install
		}},
		{"install moved onto it", func(h *host, im *spec.Image) string {
			installed(h, v, im)
			im.Install = filepath.Join(h.dir, "images", "moved.img")
			return im.Install
		}},
	}
	for _, sit := range situations {
		for _, p := range testutil.Plants {
			t.Run(sit.name+"/"+p.Name, func(t *testing.T) {
				h := newHost(t)
				h.serve("m", v)
				im := h.img("a", v, d, "m")
				path := sit.setup(h, im)
				victim := replant(t, path, p.Plant)
				before, _ := os.Lstat(path)
				for range 2 {
					wantRefused(t, applyWithin(t, h.engine(im)), "a", path)
				}
				if after, err := os.Lstat(path); err != nil || after.Mode().Type() != before.Mode().Type() {
					t.Errorf("install path changed: %v, %v", after, err)
				}
				if s := strays(t, path); len(s) > 0 {
					t.Errorf("files left beside the install path: %v", s)
				}
				testutil.Untouched(t, victim)
			})
		}
	}
}

// strays lists prestaged's temporary copies beside path.
func strays(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.prestaged-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestApplyRefusesPlantedStore: a symlink or FIFO planted at the staging,
// progress or blob path of an image is refused, and a symlink's target is
// never written.
func TestApplyRefusesPlantedStore(t *testing.T) {
	v, d := testutil.Image(t, 64<<10, 31)
	for _, place := range []string{"staging", "progress", "blob"} {
		for _, p := range testutil.Plants {
			t.Run(place+"/"+p.Name, func(t *testing.T) {
				h := newHost(t)
				h.serve("m", v)
				path := map[string]string{"staging": h.store.StagingPath(d), "progress": h.store.ProgressPath(d),
					"blob": h.store.BlobPath(d)}[place]
				victim := replant(t, path, p.Plant)
				wantRefused(t, applyWithin(t, h.engine(h.img("a", v, d, "m"))), "a", path)
				testutil.Untouched(t, victim)
				if h.installed("a") != nil {
					t.Error("the image was installed from a refused store path")
				}
			})
		}
	}
}

// TestVerifyNonRegular: verify neither blocks on nor follows what is
// planted at an install or blob path. The install cases need FileHas
// (engine/verify.go) to open with store.OpenRegular.
func TestVerifyNonRegular(t *testing.T) {
	v, d := testutil.Image(t, 64<<10, 32)
	for _, at := range []string{"install", "blob"} {
		for _, p := range testutil.Plants {
			t.Run(at+"/"+p.Name, func(t *testing.T) {
				h := newHost(t)
				im := h.img("a", v, d, "m")
				e := h.engine(installed(h, v, im)...)
				path := im.Install
				if at == "blob" {
					path = h.store.BlobPath(d)
				}
				victim := replant(t, path, p.Plant)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				ch := make(chan error, 1)
				var rep *engine.VerifyReport
				go func() {
					var err error
					rep, err = e.Verify(ctx)
					ch <- err
				}()
				var err error
				select {
				case err = <-ch:
				case <-time.After(15 * time.Second):
					t.Fatal("verify still running after 15 s")
				}
				testutil.Untouched(t, victim)
				switch {
				case at == "blob" && err == nil && rep.Checked[0].Blob == "ok":
					t.Errorf("verify took %s at the blob path for the blob", p.Name)
				case at == "install" && err == nil && rep.Repair.Failed == 0:
					t.Errorf("verify accepted %s at the install path: %+v", p.Name, rep.Repair.Outcomes)
				case err != nil && !errors.Is(err, store.ErrNotRegular):
					t.Errorf("verify: %v, want nil or %v", err, store.ErrNotRegular)
				}
			})
		}
	}
}
