package torrent

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/internal/testutil"
)

// Real BitTorrent clients on 127.0.0.1: aria2c seeds to our fetcher and
// leeches from our Seed (finding it through a local opentracker).
// transmission is not among them: it drops peers in 127.0.0.0/8 as martian,
// so it needs the netns testbed's addresses.

// syncBuf collects a process's output for failure messages.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// start runs a long-lived program until the test ends and logs its output
// if the test failed.
func start(t *testing.T, path string, args ...string) {
	t.Helper()
	out := &syncBuf{}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(path), out)
		}
	})
}

// waitListening waits until something accepts TCP connections on addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(testGuard)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

func writeTorrent(t *testing.T, mi *metainfo.MetaInfo, path string) {
	t.Helper()
	var b bytes.Buffer
	if err := mi.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAria2cSeedsOurFetcher(t *testing.T) {
	aria2c := testutil.Need(t, "aria2c")
	const size = 20<<20 + 99
	data := content(size, 9)
	img := writeImage(t, "image.img", data)
	mi, err := MakeFile(context.Background(), img, "", DefaultPieceLength)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(img)
	writeTorrent(t, mi, filepath.Join(dir, "image.torrent"))
	port := testutil.FreePort(t)
	args := append([]string{
		"--dir=" + dir, "--listen-port=" + strconv.Itoa(port), "--check-integrity=true",
		"--seed-ratio=0.0", "--bt-exclude-tracker=*",
	}, testutil.Aria2Quiet...)
	start(t, aria2c, append(args, filepath.Join(dir, "image.torrent"))...)
	peer := fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, peer)

	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	s := newSwarm(t, Config{})
	dst := newMemDst(size, nil)
	if err := s.Fetcher(fixedMetainfo(mi), fixedPeers(peer)).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("Fetch from aria2c: %v", err)
	}
	if !bytes.Equal(dst.bytes(), data) {
		t.Fatal("bytes fetched from aria2c differ from the image")
	}
}

// startTracker runs opentracker on 127.0.0.1 and returns its announce URL.
// Debian builds it with a whitelist: only the info-hashes given are served.
// The list is named relative to dir, which opentracker chroots (as root) or
// changes to.
func startTracker(t *testing.T, infoHashes ...string) string {
	t.Helper()
	opentracker := testutil.Need(t, "opentracker")
	dir := t.TempDir()
	list := filepath.Join(dir, "whitelist")
	if err := os.WriteFile(list, []byte(strings.Join(infoHashes, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(testutil.FreePort(t))
	start(t, opentracker, "-i", "127.0.0.1", "-p", port, "-P", port, "-d", dir, "-w", "whitelist")
	announce := "http://127.0.0.1:" + port + "/announce"
	waitListening(t, "127.0.0.1:"+port)
	for _, ih := range infoHashes {
		waitWhitelisted(t, announce, ih)
	}
	return announce
}

// waitWhitelisted waits until opentracker, which loads its whitelist in the
// background, accepts announces for ih: a seeder refused at its first
// announce would not announce again for many minutes. The probe announces
// event=stopped, so it leaves no peer behind.
func waitWhitelisted(t *testing.T, announce, ih string) {
	t.Helper()
	raw, err := hex.DecodeString(ih)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"info_hash": {string(raw)}, "peer_id": {"-PS0000-probeprobepr"},
		"port": {"1"}, "uploaded": {"0"}, "downloaded": {"0"}, "left": {"0"}, "event": {"stopped"}}
	for deadline := time.Now().Add(testGuard); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(announce + "?" + q.Encode())
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && !bytes.Contains(body, []byte("failure reason")) {
			return
		}
	}
	t.Fatalf("opentracker does not accept %s", ih)
}

func TestAria2cLeechesFromOurSeed(t *testing.T) {
	aria2c := testutil.Need(t, "aria2c")
	const size = 20<<20 + 4321
	data := content(size, 11)
	img := writeImage(t, "image.img", data)
	mi, err := MakeFile(context.Background(), img, "", DefaultPieceLength)
	if err != nil {
		t.Fatal(err)
	}
	tracker := startTracker(t, InfoHash(mi))
	mi.Announce = tracker // not part of the info: the info-hash is unchanged

	s := newSwarm(t, Config{Tracker: tracker})
	if err := s.Seed(context.Background(), mi, img); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTorrent(t, mi, filepath.Join(dir, "image.torrent"))
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	args := append([]string{
		"--dir=" + filepath.Join(dir, "out"), "--listen-port=" + strconv.Itoa(testutil.FreePort(t)),
		"--seed-time=0", "--bt-tracker-interval=1",
	}, testutil.Aria2Quiet...)
	cmd := exec.CommandContext(ctx, aria2c, append(args, filepath.Join(dir, "image.torrent"))...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aria2c: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "out", "image.img"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("aria2c downloaded bytes that differ from the image")
	}
}
