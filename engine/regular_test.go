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
	"github.com/prestaged/prestaged/spec"
	"golang.org/x/sys/unix"
)

const victimContent = "the victim's bytes\n"

// plants put something other than a regular file at a path; they return
// the file a symlink points at ("" if none), whose content must survive.
var plants = []struct {
	name  string
	plant func(t *testing.T, path string) (victim string)
}{
	{"symlink to a file", func(t *testing.T, path string) string {
		victim := filepath.Join(t.TempDir(), "victim")
		must(t, os.WriteFile(victim, []byte(victimContent), 0o644))
		must(t, os.Symlink(victim, path))
		return victim
	}},
	{"symlink to /dev/zero", func(t *testing.T, path string) string {
		must(t, os.Symlink("/dev/zero", path))
		return ""
	}},
	{"FIFO", func(t *testing.T, path string) string {
		must(t, unix.Mkfifo(path, 0o644))
		return ""
	}},
	{"directory", func(t *testing.T, path string) string {
		must(t, os.MkdirAll(filepath.Join(path, "sub"), 0o755))
		return ""
	}},
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// replant removes path and plants p there.
func replant(t *testing.T, path string, plant func(*testing.T, string) string) string {
	t.Helper()
	must(t, os.RemoveAll(path))
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
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

func untouched(t *testing.T, victim string) {
	t.Helper()
	if victim == "" {
		return
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != victimContent {
		t.Errorf("the file a symlink pointed at was changed: %q, %v", b, err)
	}
}

// TestApplyRefusesNonRegularInstall: a symlink, FIFO or directory at an
// install path is someone else's: apply refuses it, quickly, twice, and
// neither renames over it nor follows it. The "not installed" cases go
// through adopt (engine/fetch.go), which must open with store.OpenRegular.
func TestApplyRefusesNonRegularInstall(t *testing.T) {
	v, d := content(t, 64<<10, 30)
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
		for _, p := range plants {
			t.Run(sit.name+"/"+p.name, func(t *testing.T) {
				h := newHost(t)
				h.serve("m", v)
				im := h.img("a", v, d, "m")
				path := sit.setup(h, im)
				victim := replant(t, path, p.plant)
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
				untouched(t, victim)
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
	v, d := content(t, 64<<10, 31)
	places := []struct {
		name string
		path func(s *store.Store) string
	}{
		{"staging", func(s *store.Store) string { return s.StagingPath(d) }},
		{"progress", func(s *store.Store) string { return s.ProgressPath(d) }},
		{"blob", func(s *store.Store) string { return s.BlobPath(d) }},
	}
	for _, pl := range places {
		for _, p := range plants {
			t.Run(pl.name+"/"+p.name, func(t *testing.T) {
				h := newHost(t)
				h.serve("m", v)
				path := pl.path(h.store)
				victim := replant(t, path, p.plant)
				wantRefused(t, applyWithin(t, h.engine(h.img("a", v, d, "m"))), "a", path)
				untouched(t, victim)
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
	v, d := content(t, 64<<10, 32)
	for _, at := range []string{"install", "blob"} {
		for _, p := range plants {
			t.Run(at+"/"+p.name, func(t *testing.T) {
				h := newHost(t)
				im := h.img("a", v, d, "m")
				e := h.engine(installed(h, v, im)...)
				path := im.Install
				if at == "blob" {
					path = h.store.BlobPath(d)
				}
				victim := replant(t, path, p.plant)
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
				untouched(t, victim)
				switch {
				case at == "blob" && err == nil && rep.Checked[0].Blob == "ok":
					t.Errorf("verify took %s at the blob path for the blob", p.name)
				case at == "install" && err == nil && rep.Repair.Failed == 0:
					t.Errorf("verify accepted %s at the install path: %+v", p.name, rep.Repair.Outcomes)
				case err != nil && !errors.Is(err, store.ErrNotRegular):
					t.Errorf("verify: %v, want nil or %v", err, store.ErrNotRegular)
				}
			})
		}
	}
}
