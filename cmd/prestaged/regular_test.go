package main_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bound is how long a run may take before it counts as hung: generous, it
// proves "does not hang", not a speed.
const bound = 10 * time.Second

// runWithin runs prestaged and fails the test if it has not exited within
// bound (it is killed then).
func runWithin(t *testing.T, args ...string) result {
	t.Helper()
	cmd, wait := start(t, args...)
	done := make(chan result, 1)
	go func() { done <- wait() }()
	select {
	case r := <-done:
		return r
	case <-time.After(bound):
		cmd.Process.Kill()
		t.Fatalf("prestaged %v still running after %s:\n%s", args, bound, <-done)
	}
	return result{}
}

// plantAt puts kind ("fifo", "devzero" or "symlink:TARGET") at path.
func plantAt(t *testing.T, path, kind string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	switch {
	case kind == "fifo":
		err = syscall.Mkfifo(path, 0o644)
	case kind == "devzero":
		err = os.Symlink("/dev/zero", path)
	case strings.HasPrefix(kind, "symlink:"):
		err = os.Symlink(strings.TrimPrefix(kind, "symlink:"), path)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// wantRefused checks that r failed (exit 4 with --detailed-exitcodes)
// naming path, not for the store lock.
func wantRefused(t *testing.T, what string, r result, path string) {
	t.Helper()
	if r.code != 4 || !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, "not a regular file") ||
		strings.Contains(r.stderr, "holds the store lock") {
		t.Errorf("%s: want exit 4 and an error naming %s as not a regular file, got %s", what, path, r)
	}
}

func victimFile(t *testing.T) (path string, check func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "victim")
	const content = "the victim's bytes\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, func() {
		t.Helper()
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Errorf("the file a symlink pointed at was changed: %q, %v", b, err)
		}
	}
}

// TestApplyNonRegularInstall: a FIFO or a symlink to /dev/zero at an install
// path fails apply within seconds, naming the path, and the next apply is
// refused for the same reason, not for a lock the first one still holds.
// The "not installed" cases go through adopt (engine/fetch.go).
func TestApplyNonRegularInstall(t *testing.T) {
	for _, installedFirst := range []bool{false, true} {
		for _, kind := range []string{"fifo", "devzero"} {
			name := kind + "/not installed"
			if installedFirst {
				name = kind + "/replaced after install"
			}
			t.Run(name, func(t *testing.T) {
				s, _, spec := publishedSite(t, "vm", 256<<10, 70, true)
				if installedFirst {
					mustApply(t, spec, 2)
				}
				path := s.path("images", "vm.img")
				plantAt(t, path, kind)
				for _, what := range []string{"apply", "the next apply"} {
					wantRefused(t, what, runWithin(t, "apply", "--detailed-exitcodes", "--no-progress", spec), path)
				}
			})
		}
	}
}

// TestApplySymlinkAtStaging: a symlink planted at the staging .part path is
// not followed: its target keeps its bytes and apply names the path.
func TestApplySymlinkAtStaging(t *testing.T) {
	s, image, spec := publishedSite(t, "vm", 256<<10, 71, true)
	victim, untouched := victimFile(t)
	part := s.path("store", "staging", "sha256", image.digest()+".part")
	plantAt(t, part, "symlink:"+victim)
	wantRefused(t, "apply", runWithin(t, "apply", "--detailed-exitcodes", "--no-progress", spec), part)
	untouched()
	if s.installed("vm") != nil {
		t.Error("the image was installed anyway")
	}
}

// wantEnded fails the test unless the apply that wait waits for ends,
// within bound of a SIGTERM and with a non-zero exit.
func wantEnded(t *testing.T, wait func() result, what string) {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- wait() }()
	select {
	case r := <-done:
		if r.code == 0 {
			t.Errorf("%s exited 0: %s", what, r)
		}
	case <-time.After(bound):
		t.Fatalf("apply still running %s after SIGTERM", bound)
	}
}

// TestSIGTERMMidDownload: SIGTERM ends an apply that is downloading from a
// slow mirror within seconds, and the next apply takes the lock.
func TestSIGTERMMidDownload(t *testing.T) {
	s, image, srv, spec := slowSite(t, 4<<20, 72)

	cmd, wait := start(t, "apply", "--no-progress", spec)
	waitFor(t, "staged bytes", func() bool { return s.stagingSize(image) >= 256<<10 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, wait, "apply ended by SIGTERM")
	srv.slow.Store(false)
	if r := runWithin(t, "apply", "--detailed-exitcodes", "--no-progress", spec); r.code != 2 {
		t.Errorf("apply after the terminated one: want exit 2, got %s", r)
	}
}

// TestVerifyNonRegular: verify neither blocks on a FIFO at an install path
// (FileHas, engine/verify.go) nor follows a symlink planted at a blob path.
func TestVerifyNonRegular(t *testing.T) {
	image := img{name: "vm", content: randomBytes(256<<10, 73)}
	t.Run("fifo at install", func(t *testing.T) {
		s := newSite(t)
		s.publish(image)
		spec := s.spec("", true, image)
		mustApply(t, spec, 2)
		path := s.path("images", "vm.img")
		plantAt(t, path, "fifo")
		r := runWithin(t, "verify", "--detailed-exitcodes", "--no-progress", spec)
		if r.code == 0 || !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, "not a regular file") {
			t.Errorf("verify: want a failure naming %s as not a regular file, got %s", path, r)
		}
	})
	t.Run("symlink at blob", func(t *testing.T) {
		s := newSite(t)
		s.publish(image)
		spec := s.spec("", true, image)
		mustApply(t, spec, 2)
		victim, untouched := victimFile(t)
		blob := s.path("store", "blobs", "sha256", image.digest())
		plantAt(t, blob, "symlink:"+victim)
		r := runWithin(t, "verify", "--no-progress", spec)
		untouched()
		if strings.Contains(r.stdout, "blob ok") {
			t.Errorf("verify took the symlink for the blob: %s", r)
		}
	})
}

// TestServeNonRegular: serve answers a child asking for an image whose blob
// or staging path holds a FIFO or a symlink with an error at once, and goes
// on serving.
func TestServeNonRegular(t *testing.T) {
	image := img{name: "vm", content: randomBytes(256<<10, 74)}
	for _, tc := range []struct{ at, kind string }{
		{"blob", "fifo"}, {"blob", "devzero"}, {"staging", "fifo"}, {"staging", "devzero"},
	} {
		t.Run(tc.at+"/"+tc.kind, func(t *testing.T) {
			s := newSite(t)
			s.publish(image)
			spec := s.spec("", true, image)
			mustApply(t, spec, 2)
			blob := s.path("store", "blobs", "sha256", image.digest())
			path := blob
			if tc.at == "staging" {
				if err := os.Remove(blob); err != nil {
					t.Fatal(err)
				}
				path = s.path("store", "staging", "sha256", image.digest()+".part")
			}
			plantAt(t, path, tc.kind)
			base := startServe(t, spec)
			client := &http.Client{Timeout: bound}
			for _, method := range []string{http.MethodHead, http.MethodGet} {
				req, _ := http.NewRequest(method, base+"/v1/blobs/sha256/"+image.digest(), nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s with %s at the %s path: %v", method, tc.kind, tc.at, err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusInternalServerError {
					t.Errorf("%s with %s at the %s path: %s, want 500", method, tc.kind, tc.at, resp.Status)
				}
			}
			resp, err := client.Get(base + "/v1/status")
			if err != nil {
				t.Fatalf("status after the refusals: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status after the refusals: %s", resp.Status)
			}
		})
	}
}

// TestSIGTERMStuckApply: an apply stuck in a call the context does not
// reach (a FIFO at the install path, where an open would block) still ends
// within seconds of SIGTERM, and the next apply takes the lock. Once
// nothing blocks there, apply has ended before the signal.
func TestSIGTERMStuckApply(t *testing.T) {
	s, _, spec := publishedSite(t, "vm", 256<<10, 75, true)
	plantAt(t, s.path("images", "vm.img"), "fifo")
	cmd, wait := start(t, "apply", "--no-progress", spec)
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGTERM) // an error: it has exited already
	wantEnded(t, wait, "apply")
	if err := os.Remove(s.path("images", "vm.img")); err != nil {
		t.Fatal(err)
	}
	if r := runWithin(t, "apply", "--detailed-exitcodes", "--no-progress", spec); r.code != 2 {
		t.Errorf("the next apply, the FIFO removed: want exit 2, got %s", r)
	}
}
