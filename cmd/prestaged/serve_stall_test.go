package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestServeStuckChildren: two children that stop reading hold both slots
// of max_children = 2 of a real `prestaged serve` only until the spec's
// stall_timeout; then a child that reads gets the whole image. A HEAD is
// answered meanwhile, without a slot.
func TestServeStuckChildren(t *testing.T) {
	_, image, spec := editedSite(t, "big", 32<<20, 60, func(b string) string {
		return strings.Replace(b, `stall_timeout = "5s"`, `stall_timeout = "2s"`, 1) + "\npeer {\n  max_children = 2\n}\n"
	})
	mustApply(t, spec, 2)
	addr := serveAddr(t, spec)
	base, blob := "http://"+addr, "/v1/blobs/sha256/"+image.digest()
	stuck := []net.Conn{testutil.StuckClient(t, addr, blob), testutil.StuckClient(t, addr, blob)}
	waitFor(t, "two children downloading", func() bool {
		return serveMetrics(t, addr)["prestaged_peer_children"] == 2
	})
	resp, err := http.Get(base + blob)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a third child while two are stuck: %s, want 503", resp.Status)
	}
	head, err := http.Head(base + blob)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.ContentLength != image.length() {
		t.Errorf("HEAD while both slots are held: %s, length %d; want 200, %d", head.Status, head.ContentLength, image.length())
	}

	got := testutil.GetWhenFree(t, base+blob, 15*time.Second) // stall_timeout is 2s
	if !bytes.Equal(got, image.content) {
		t.Fatalf("the child that reads got %d bytes, not the image", len(got))
	}
	for i, c := range stuck {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, _ := io.Copy(io.Discard, c); n >= image.length() {
			t.Errorf("stuck child %d was sent the whole image (%d bytes): its connection was not cut", i, n)
		}
	}
}

// TestServeLogJSON: with --json, every line serve logs is one JSON object,
// and one says where it serves.
func TestServeLogJSON(t *testing.T) {
	log := serveLogged(t, newSite(t).spec("", false, img{name: "vm", content: []byte("vm")}), "--json")
	var serving map[string]any
	waitFor(t, "serve to log that it serves", func() bool {
		b, _ := os.ReadFile(log)
		lines := strings.Split(string(b), "\n")
		for _, line := range lines[:len(lines)-1] { // the last may be half written
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("serve --json logged a line that is not JSON: %q (%v)", line, err)
			}
			if m["msg"] == "serving" {
				serving = m
			}
		}
		return serving != nil
	})
	if l, _ := serving["listen"].(string); !strings.HasPrefix(l, "127.0.0.1:") || serving["level"] != "INFO" {
		t.Errorf("serving line %v, want level INFO and listen on 127.0.0.1", serving)
	}
}
