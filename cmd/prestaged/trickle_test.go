package main_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestTrickleMirrorLeft: a mirror sending a byte every half second, first in
// sources, holds the image for no more than a few stall timeouts (2 s); the
// good mirror after it delivers the rest, resuming, and apply installs it.
func TestTrickleMirrorLeft(t *testing.T) {
	s := newSite(t)
	image := img{name: "vm", content: randomBytes(4<<20, 28)}
	s.publish(image)
	var requests atomic.Int32
	trickle := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		testutil.TrickleBody(w, r, image.content, 500*time.Millisecond)
	}))
	defer trickle.Close()
	path := s.mirrorsSpec("2s", image, `["mirror.trickle", "mirror.good"]`, "trickle", trickle.URL+"/", "good", "mirror/")

	cmd, wait := start(t, "apply", "--detailed-exitcodes", path)
	done := make(chan result, 1)
	go func() { done <- wait() }()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second): // does not hang
		cmd.Process.Kill()
		t.Fatalf("apply still running after 30 s with a trickling mirror first:\n%s", <-done)
	}
	if r.code != 2 || !bytes.Equal(s.installed("vm"), image.content) {
		t.Fatalf("want exit 2 and the image installed, got %s", r)
	}
	if n := requests.Load(); n != 1 || !strings.Contains(r.stderr, "slower than the stall floor") {
		t.Errorf("trickling mirror asked %d times (want 1, not retried), log should say it was too slow:\n%s", n, r.stderr)
	}
	if m := regexp.MustCompile(`source mirror.good: starting at byte (\d+)`).FindStringSubmatch(r.stderr); m == nil || m[1] == "0" {
		t.Errorf("the good mirror did not resume where the trickle stopped:\n%s", r.stderr)
	}
}
