package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestTorrentTransmissionLeecher: host A installs from its mirror and
// serves, as in TestTorrentFromServe; transmission-daemon leeches the image
// from A through opentracker with the .torrent A serves.
//
// Transmission (3.00 here, 4.x as well) drops every peer on 127/8 that a
// tracker lists, but accepts connections from there. So A has to dial
// transmission, and A learns of peers only when it announces: at its start,
// then at opentracker's interval, about half an hour. Transmission
// therefore announces first, with the .torrent `prestaged torrent make`
// writes, the same bytes as A serves, and serve starts once the tracker
// knows it.
func TestTorrentTransmissionLeecher(t *testing.T) {
	bin := testutil.NeedAll(t, "transmission-daemon", "transmission-remote")
	daemon, remote := bin[0], bin[1]
	a, image, specA, httpA, swarmAddr, tracker, _ := installedHost(t, 24)
	torrentFile := filepath.Join(t.TempDir(), "vm.torrent")
	torrentMake(t, a.path("mirror", "vm.img"), torrentFile, "--tracker", tracker)

	// The daemon keeps to the peers opentracker gives it: DHT, LPD, uTP
	// and port mapping are off by flag, PEX (which has no flag) in the
	// settings it reads from its own config dir. -f keeps it in the
	// foreground, for btProgram to stop.
	config, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(config, "settings.json"), []byte(`{"pex-enabled": false}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rpcPort := strconv.Itoa(testutil.FreePort(t))
	rpc := "127.0.0.1:" + rpcPort
	btProgram(t, daemon, "-f", "-g", config, "-w", dir, "-T", "-r", "127.0.0.1", "-p", rpcPort,
		"-P", strconv.Itoa(testutil.FreePort(t)), "-i", "127.0.0.1", "-I", "::1", "-O", "-Y", "--no-utp", "-M", "--log-info")
	btListening(t, rpc)
	if out, err := exec.Command(remote, rpc, "-a", torrentFile).CombinedOutput(); err != nil || !bytes.Contains(out, []byte("success")) {
		t.Fatalf("transmission-remote -a %s: %v\n%s", torrentFile, err, out)
	}
	transmissionWait(t, remote, rpc, "transmission's first announce", "Got a list of", "-t", "all", "-it")

	btProgram(t, prestaged, "serve", specA)
	btListening(t, httpA)
	btListening(t, swarmAddr)
	torrentBytes, err := os.ReadFile(torrentFile)
	if err != nil {
		t.Fatal(err)
	}
	if served := fetchMetainfo(t, "http://"+httpA+"/v1/torrents/sha256/"+image.digest()); !bytes.Equal(served, torrentBytes) {
		t.Errorf("serve's metainfo differs from the .torrent transmission was given")
	}

	// Transmission says it is interested in A's pieces only at its next
	// rechoke, every 10 s; then the image takes a few seconds more.
	info := transmissionWait(t, remote, rpc, "transmission to leech the image from serve", "Percent Done: 100%", "-t", "all", "-i", "-ip")
	if got, _ := os.ReadFile(filepath.Join(dir, "vm.img")); !bytes.Equal(got, image.content) {
		t.Errorf("transmission downloaded other bytes than the image from prestaged serve\n%s", info)
	}
}

// transmissionWait runs transmission-remote with args until its output
// holds want, and returns that output. It polls more slowly than waitFor,
// as each try starts a program, and waits longer: a download is in it.
func transmissionWait(t *testing.T, remote, rpc, what, want string, args ...string) []byte {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := exec.Command(remote, append([]string{rpc}, args...)...).CombinedOutput()
		if err == nil && bytes.Contains(out, []byte(want)) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v\n%s", what, err, out)
		}
	}
}
