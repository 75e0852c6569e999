package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestServeSeedsNamedTorrent: a site publishes worker.img with a .torrent
// that mktorrent made; a host whose image names that torrent_url (and no
// path) installs it from an aria2c swarm, and once the aria2c seeder is gone
// its `prestaged serve` feeds a real aria2c leecher of the same .torrent:
// serve seeds the named torrent's info-hash, from the metainfo apply kept
// and, with that cache gone, from the torrent_url checked against the blob.
func TestServeSeedsNamedTorrent(t *testing.T) {
	bin := testutil.NeedAll(t, "aria2c", "mktorrent")
	aria2c, mk := bin[0], bin[1]
	content := randomBytes(btSize, 33)
	pub := t.TempDir()
	if err := os.WriteFile(filepath.Join(pub, "worker.img"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	mktorrent := func(announce, out string) string {
		t.Helper()
		cmd := exec.Command(mk, "-l", "22", "-a", announce, "-o", out, "worker.img")
		cmd.Dir = pub
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mktorrent: %v\n%s", err, b)
		}
		mi, err := metainfo.LoadFromFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return mi.HashInfoBytes().HexString()
	}
	ih := mktorrent("http://127.0.0.1:1/announce", filepath.Join(t.TempDir(), "probe.torrent"))
	tracker := btTracker(t, ih)
	published := filepath.Join(pub, "worker.torrent")
	if got := mktorrent(tracker, published); got != ih {
		t.Fatalf("the announce URL changed the info-hash: %s, then %s", ih, got)
	}
	site := httptest.NewServer(http.FileServer(http.Dir(pub)))
	t.Cleanup(site.Close)

	seederPort := testutil.FreePort(t)
	seeder := btProgram(t, aria2c, append([]string{"--dir=" + pub, "--listen-port=" + strconv.Itoa(seederPort),
		"--check-integrity=true", "--seed-ratio=0.0", "--bt-tracker-interval=1", published}, testutil.Aria2Quiet...)...)
	btListening(t, fmt.Sprintf("127.0.0.1:%d", seederPort))

	h := newSite(t)
	httpA := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	swarmA := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	image := img{name: "worker", content: content}
	spec := h.path("spec.hcl")
	specText := fmt.Sprintf(`store = %q
stall_timeout = "30s"

peer {
  listen = %q
}

torrent {
  listen  = %q
  tracker = %q
}

image "worker" {
  sha256      = %q
  size        = %d
  torrent_url = %q
  install     = %q
  sources     = ["torrent"]
}
`, h.path("store"), httpA, swarmA, tracker, image.digest(), image.length(), site.URL+"/worker.torrent", h.path("images", "worker.img"))
	if err := os.WriteFile(spec, []byte(specText), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := applyBySource(t, spec); got["torrent"] != btSize {
		t.Fatalf("bytes by source: %v, want all %d from the aria2c swarm", got, btSize)
	}
	_ = seeder.Process.Signal(syscall.SIGTERM)
	_ = seeder.Wait() // the seeder's cleanup only finds it gone

	t.Run("metainfo kept by apply", func(t *testing.T) {
		leechFromServe(t, aria2c, spec, httpA, swarmA, published, ih, content)
	})
	t.Run("cache gone: from torrent_url", func(t *testing.T) {
		if err := os.RemoveAll(h.path("store", "torrents")); err != nil {
			t.Fatal(err)
		}
		log := leechFromServe(t, aria2c, spec, httpA, swarmA, published, ih, content)
		if !strings.Contains(log, "from="+site.URL+"/worker.torrent") {
			t.Errorf("serve did not take the metainfo from the torrent_url:\n%s", log)
		}
	})
}

// leechFromServe runs serve on spec until an aria2c leecher of published
// has the image from it alone, checks that serve's log and /v1/status give
// info-hash ih, and returns serve's log.
func leechFromServe(t *testing.T, aria2c, spec, httpA, swarmA, published, ih string, content []byte) string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	serve := exec.Command(prestaged, "serve", spec)
	serve.Stderr = logf
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	t.Cleanup(func() { _ = serve.Process.Kill(); _ = serve.Wait() })
	serveLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	btListening(t, httpA)
	btListening(t, swarmA)
	waitFor(t, "serve to seed the named torrent", func() bool { return strings.Contains(serveLog(), "torrent: seeding") })
	if !strings.Contains(serveLog(), "infohash="+ih) {
		t.Errorf("serve's log does not name info-hash %s:\n%s", ih, serveLog())
	}
	var status struct {
		Images []struct {
			InfoHash string `json:"infohash"`
		} `json:"images"`
	}
	resp, err := http.Get("http://" + httpA + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if err != nil || len(status.Images) != 1 || status.Images[0].InfoHash != ih {
		t.Errorf("/v1/status: %+v (%v), want the image with infohash %s", status, err, ih)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--dir=" + dir, "--listen-port=" + strconv.Itoa(testutil.FreePort(t)), "--seed-time=0",
		"--bt-tracker-interval=1", published}, testutil.Aria2Quiet...)
	out, err := exec.CommandContext(ctx, aria2c, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("aria2c leeching from serve alone: %v\n%s\nserve's log:\n%s", err, out, serveLog())
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "worker.img")); !bytes.Equal(got, content) {
		t.Errorf("aria2c got %d bytes that differ from the image", len(got))
	}
	return serveLog()
}
