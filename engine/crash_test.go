package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/internal/testutil"
	"golang.org/x/sys/unix"
)

// The crash-point test runs an apply of v2 over an installed v1 in a child
// process (this test binary, re-executed) that SIGKILLs itself at a named
// point, then checks that the install path holds exactly v1 or v2 and that
// the next apply converges to v2, fetching only what is missing.
//
// Points the engine reaches through a seam (a fetcher, the Reporter) are
// driven by a real engine apply. The others have no hook in product code, so
// the child drives the store's primitives in the engine's order (Stage,
// Commit, Install, SaveState) and kills itself between them; "install-copy"
// stops the copy to beside the install path half way.

const (
	crashPointEnv = "PRESTAGED_CRASH_POINT"
	crashDirEnv   = "PRESTAGED_CRASH_DIR"
	crashSize     = 1 << 20
)

type crashPoint struct {
	name      string
	run       func(h *host, e *engine.Engine, v2 []byte)
	want      string // "v1" or "v2" at the install path after the kill
	refetched int64  // bytes the converging apply fetches
}

var crashPoints = []crashPoint{
	{"staging-half", crashDuringStaging(crashSize / 2), "v1", crashSize / 2},
	{"staging-complete", crashDuringStaging(crashSize), "v1", 0},
	{"after-commit", crashAfterCommit, "v1", 0},
	{"install-copy", crashDuringInstallCopy, "v1", crashSize / 2},
	{"after-install-rename", crashAfterInstall, "v2", 0},
	{"after-state-save", crashAfterStateSave, "v2", 0},
}

func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// crashDuringStaging: a real apply whose fetcher dies after n bytes.
func crashDuringStaging(n int) func(*host, *engine.Engine, []byte) {
	return func(h *host, e *engine.Engine, v2 []byte) {
		h.sources["m"] = fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
			if _, err := dst.Write(v2[dst.Offset():n]); err != nil {
				return err
			}
			killSelf()
			return nil
		})
		h.apply(e)
	}
}

func commitV2(h *host, e *engine.Engine, v2 []byte) store.Blob {
	img := e.Spec.Images[0]
	w, err := h.store.Stage(context.Background(), img.Digest, img.Size)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := w.Write(v2); err != nil {
		h.t.Fatal(err)
	}
	b, err := w.Commit()
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func crashAfterCommit(h *host, e *engine.Engine, v2 []byte) {
	commitV2(h, e, v2)
	killSelf()
}

func crashAfterInstall(h *host, e *engine.Engine, v2 []byte) {
	b := commitV2(h, e, v2)
	if _, err := store.Install(context.Background(), b, e.Spec.Images[0].Install, store.Options{}); err != nil {
		h.t.Fatal(err)
	}
	killSelf()
}

// crashAfterStateSave: a real apply, killed once it reports the image done.
func crashAfterStateSave(h *host, e *engine.Engine, v2 []byte) {
	h.serve("m", v2)
	e.Reporter = endKiller{}
	h.apply(e)
}

type endKiller struct{}

func (endKiller) Begin(string, int64, int64, func() int64) {}
func (endKiller) Event(string, string)                     {}
func (endKiller) End(engine.Outcome)                       { killSelf() }

// crashDuringInstallCopy stages half of v2, copies it ahead to the
// temporary copy beside the install path (store.Prepared, the install copy
// of a fetch under way), and dies once that half is there. A blob that
// stops half way cannot be had otherwise: Install refuses a FIFO.
func crashDuringInstallCopy(h *host, e *engine.Engine, v2 []byte) {
	img := e.Spec.Images[0]
	w, err := h.store.Stage(context.Background(), img.Digest, img.Size)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := w.Write(v2[:crashSize/2]); err != nil {
		h.t.Fatal(err)
	}
	if w.Prepare(img.Install) == nil {
		h.t.Fatal("nothing is copied ahead: the filesystem clones files")
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(img.Install), ".*prestaged-*"))
		if len(tmps) == 1 {
			if fi, err := os.Stat(tmps[0]); err == nil && fi.Size() == crashSize/2 {
				killSelf()
			}
		}
	}
	h.t.Fatal("the install copy never reached half the image")
}

// clones reports whether dir's filesystem clones files (XFS, btrfs), where
// an install copy is never under way.
func clones(t *testing.T, dir string) bool {
	a, err := os.CreateTemp(dir, "clone-a")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(a.Name())
	defer a.Close()
	b, err := os.CreateTemp(dir, "clone-b")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(b.Name())
	defer b.Close()
	return unix.IoctlFileClone(int(b.Fd()), int(a.Fd())) == nil
}

// crashHost is the host both processes see: v1 and v2 of image "a".
func crashHost(t testing.TB, dir string) (h *host, v1, v2 []byte, mk func(b []byte) *engine.Engine) {
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	h = &host{t: t, dir: dir, store: st, sources: map[string]fetchers.Fetcher{}}
	v1, d1 := testutil.Image(t, crashSize, 1)
	v2, d2 := testutil.Image(t, crashSize, 2)
	mk = func(b []byte) *engine.Engine {
		if bytes.Equal(b, v1) {
			return h.engine(h.img("a", v1, d1, "m"))
		}
		return h.engine(h.img("a", v2, d2, "m"))
	}
	return h, v1, v2, mk
}

// TestCrashHelper is the child process; it does nothing in a normal run.
func TestCrashHelper(t *testing.T) {
	name := os.Getenv(crashPointEnv)
	if name == "" {
		t.Skip("run by TestCrashPoints in a child process")
	}
	h, _, v2, mk := crashHost(t, os.Getenv(crashDirEnv))
	for _, p := range crashPoints {
		if p.name == name {
			p.run(h, mk(v2), v2)
			t.Fatalf("crash point %s: still alive", name)
		}
	}
	t.Fatalf("no crash point %q", name)
}

func TestCrashPoints(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range crashPoints {
		t.Run(p.name, func(t *testing.T) {
			dir := t.TempDir()
			if p.name == "install-copy" && clones(t, dir) {
				testutil.Unavailable(t, "the test directory's filesystem clones files (XFS, btrfs): no install copy to interrupt")
			}
			h, v1, v2, mk := crashHost(t, dir)
			installed(h, v1, mk(v1).Spec.Images[0])

			cmd := exec.Command(exe, "-test.run=^TestCrashHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashPointEnv+"="+p.name, crashDirEnv+"="+dir)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed at %s: %v\n%s", p.name, err, out)
			}
			want := map[string][]byte{"v1": v1, "v2": v2}[p.want]
			if got := h.installed("a"); !bytes.Equal(got, want) {
				t.Fatalf("after a kill at %s the install path holds %s, want exactly %s", p.name, which(got, v1, v2), p.want)
			}
			converge(t, h, mk(v2), v2, p.refetched)
		})
	}
}

// converge applies v2 in this process and checks it lands whole, fetching
// only what was not staged, leaving nothing behind.
func converge(t *testing.T, h *host, e *engine.Engine, v2 []byte, refetched int64) {
	t.Helper()
	f := h.serve("m", v2)
	_, res := h.apply(e)
	if res.Failed > 0 {
		t.Fatalf("converging apply failed: %+v", res.Outcomes)
	}
	var fetched int64
	for _, s := range f.Served() {
		fetched += s.N
	}
	if fetched != refetched || !bytes.Equal(h.installed("a"), v2) {
		t.Errorf("converging apply fetched %d bytes (want %d) and installed %s", fetched, refetched, which(h.installed("a"), nil, v2))
	}
	if p, _ := e.Plan(context.Background()); p.Changes() {
		t.Errorf("not converged after the apply: %s", p.Summary())
	}
	var left []string
	entries, _ := os.ReadDir(filepath.Dir(h.installPath("a")))
	for _, en := range entries {
		left = append(left, en.Name())
	}
	if diff := cmp.Diff([]string{"a.img"}, left); diff != "" {
		// A partial copy left by a killed install is never removed: up to
		// an image's size lost beside the install path (see the report).
		t.Errorf("files left beside the install path (-want +got):\n%s", diff)
	}
}

func which(got, v1, v2 []byte) string {
	switch {
	case got == nil:
		return "nothing"
	case bytes.Equal(got, v1):
		return "v1"
	case bytes.Equal(got, v2):
		return "v2"
	}
	return fmt.Sprintf("a mix (%d bytes)", len(got))
}
