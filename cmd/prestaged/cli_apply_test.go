package main_test

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestQuickstartTwice: a file:// mirror with default sources; the first
// apply installs, the second has nothing to do and says so.
func TestQuickstartTwice(t *testing.T) {
	s := newSite(t)
	demo := img{name: "demo", content: bytes.Repeat([]byte("prestaged demo image\n"), 50_000)}
	s.publish(demo)
	spec := s.spec("", false, demo)
	tests := []struct {
		name     string
		wantCode int
		wantOut  string
	}{
		{"first", 2, "Apply: 1 fetched, 0 replaced, 0 removed, 0 failed"},
		{"second", 0, "Apply: 0 fetched, 0 replaced, 0 removed, 0 failed; nothing to do, host is converged"},
	}
	for _, tt := range tests {
		r := run(t, "apply", "--detailed-exitcodes", spec)
		if r.code != tt.wantCode || !strings.Contains(r.stdout, tt.wantOut) {
			t.Fatalf("%s apply: want exit %d and %q, got %s", tt.name, tt.wantCode, tt.wantOut, r)
		}
		if !bytes.Equal(s.installed("demo"), demo.content) {
			t.Fatalf("%s apply: wrong content installed", tt.name)
		}
	}
	if r := run(t, "apply", spec); r.code != 0 {
		t.Errorf("apply without --detailed-exitcodes on a converged host: %s", r)
	}
}

// TestWrongDigest: bytes that do not match the spec are never installed;
// the previous version stays and the exit code says an image failed.
func TestWrongDigest(t *testing.T) {
	v1 := img{name: "vm", content: randomBytes(300<<10, 1)}
	v2 := img{name: "vm", content: randomBytes(300<<10, 2)}
	lying := img{name: "vm", content: v2.content, sha: v1.digest()[:60] + "beef"}
	tests := []struct {
		name    string
		before  *img // installed first
		want    []byte
		wantErr string
	}{
		{"fresh host", nil, nil, "digest mismatch"},
		{"previous version", &v1, v1.content, "digest mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			if tt.before != nil {
				s.publish(*tt.before)
				if r := run(t, "apply", s.spec("", true, *tt.before)); r.code != 0 {
					t.Fatalf("setup: %s", r)
				}
			}
			s.publish(v2)
			r := run(t, "apply", "--detailed-exitcodes", s.spec("", true, lying))
			if r.code != 4 || !strings.Contains(r.stderr, tt.wantErr) || !strings.Contains(r.stdout, "1 failed") {
				t.Fatalf("want exit 4 naming a %s, got %s", tt.wantErr, r)
			}
			if got := s.installed("vm"); !bytes.Equal(got, tt.want) {
				t.Errorf("install path holds %d bytes, want the previous %d", len(got), len(tt.want))
			}
			if s.stagingSize(lying) >= 0 {
				t.Error("the bad bytes were kept in staging")
			}
			if r := run(t, "apply", s.spec("", true, lying)); r.code != 1 {
				t.Errorf("without --detailed-exitcodes: want exit 1, got %s", r)
			}
		})
	}
}

// TestKilledApplyResumes: apply is SIGKILLed mid-download from a slow
// mirror; the rerun fetches only the rest and installs the right bytes.
func TestKilledApplyResumes(t *testing.T) {
	s, image, srv, spec := slowSite(t, 4<<20, 3)

	cmd, wait := start(t, "apply", spec)
	waitFor(t, "staged bytes", func() bool { return s.stagingSize(image) >= 256<<10 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if r := wait(); r.code != -1 {
		t.Fatalf("apply was not killed: %s", r)
	}
	staged := s.stagingSize(image)
	if s.installed("vm") != nil || staged <= 0 || staged >= int64(len(image.content)) {
		t.Fatalf("after the kill: installed %t, staged %d bytes", s.installed("vm") != nil, staged)
	}

	srv.slow.Store(false)
	mark := srv.mark()
	r := run(t, "apply", "--detailed-exitcodes", spec)
	rerun, ranges := srv.sentSince(mark)
	if r.code != 2 {
		t.Fatalf("rerun: %s", r)
	}
	if rerun >= int64(len(image.content)) || rerun != int64(len(image.content))-staged {
		t.Errorf("rerun fetched %d bytes of %d with %d staged (requests with Range %q); want only the rest",
			rerun, len(image.content), staged, ranges)
	}
	if !bytes.Equal(s.installed("vm"), image.content) {
		t.Error("rerun installed the wrong content")
	}
	if !strings.Contains(r.stderr, "resumed=") {
		t.Errorf("rerun log does not mention the resume:\n%s", r.stderr)
	}
}

// TestConcurrentApply: a second apply refuses clearly while the first holds
// the store, or waits for it with --wait.
func TestConcurrentApply(t *testing.T) {
	s, image, srv, spec := slowSite(t, 2<<20, 4)

	_, waitFirst := start(t, "apply", spec)
	waitFor(t, "the first apply to stage bytes", func() bool { return s.stagingSize(image) > 0 })

	r := run(t, "apply", spec)
	if r.code != 1 || !strings.Contains(r.stderr, "another prestaged apply holds the store lock") || !strings.Contains(r.stderr, "--wait") {
		t.Errorf("second apply without --wait: want exit 1 and a clear lock message, got %s", r)
	}
	_, waitThird := start(t, "apply", "--wait", "60s", "--detailed-exitcodes", spec)
	srv.slow.Store(false)
	if r := waitFirst(); r.code != 0 {
		t.Fatalf("first apply: %s", r)
	}
	if r := waitThird(); r.code != 0 || !strings.Contains(r.stdout, "nothing to do") {
		t.Errorf("apply with --wait: want exit 0 and nothing to do, got %s", r)
	}
}

// TestFullDisk: a store too small for the image is refused before anything
// is downloaded, and what was installed stays as it was.
func TestFullDisk(t *testing.T) {
	requireRoot(t)
	s := newSite(t)
	for _, d := range []string{"store", "images"} {
		mountTmpfs(t, s.path(d), "96m") // prestaged keeps 64 MiB free on top of what it needs
	}
	small := img{name: "small", content: randomBytes(1<<20, 5)}
	s.publish(small)
	if r := run(t, "apply", s.spec("", true, small)); r.code != 0 {
		t.Fatalf("setup: %s", r)
	}
	state, _ := os.ReadFile(s.path("store", "state.json"))
	fi, _ := os.Stat(s.path("images", "small.img"))

	big := img{name: "big", sha: strings.Repeat("ab", 32), size: 64 << 20}
	r := run(t, "apply", "--detailed-exitcodes", s.spec("", true, small, big))
	if r.code != 1 || !strings.Contains(r.stderr, "not enough free space") || !strings.Contains(r.stderr, "nothing was downloaded") {
		t.Fatalf("want exit 1 and a clear free-space error, got %s", r)
	}
	after, _ := os.ReadFile(s.path("store", "state.json"))
	fi2, _ := os.Stat(s.path("images", "small.img"))
	if !bytes.Equal(s.installed("small"), small.content) || !bytes.Equal(state, after) || !os.SameFile(fi, fi2) || fi.ModTime() != fi2.ModTime() {
		t.Error("the installed image or the state changed")
	}
	if s.stagingSize(big) >= 0 {
		t.Error("a staging file was created for the refused image")
	}
}
