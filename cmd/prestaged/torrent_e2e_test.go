package main_test

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/internal/testutil"
)

// The swarm end to end, with the built binary and real BitTorrent programs
// on 127.0.0.1: prestaged serve seeds what apply installed, another host
// joins with nothing but the tree, aria2c seeds to and leeches from
// prestaged through opentracker, and a swarm that stalls hands over to a
// mirror that resumes from the pieces in order.

// btSize spans three 4 MiB pieces, the last one short.
const btSize = 8<<20 + 12345

// btProgram runs a long-lived program until the test ends, and shows its
// output when the test failed.
func btProgram(t *testing.T, path string, args ...string) *exec.Cmd {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s %s output:\n%s", filepath.Base(path), strings.Join(args, " "), out.String())
		}
	})
	return cmd
}

func btListening(t *testing.T, addr string) {
	t.Helper()
	waitFor(t, "a listener on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// btTracker runs opentracker and returns its announce URL. Debian's build
// serves only whitelisted info-hashes and loads the list in the background:
// wait until each is accepted, as a client refused at its first announce
// would not come back for minutes.
func btTracker(t *testing.T, infoHashes ...string) string {
	t.Helper()
	opentracker := testutil.Need(t, "opentracker")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "whitelist"), []byte(strings.Join(infoHashes, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(testutil.FreePort(t))
	btProgram(t, opentracker, "-i", "127.0.0.1", "-p", port, "-P", port, "-d", dir, "-w", "whitelist")
	announce := "http://127.0.0.1:" + port + "/announce"
	for _, ih := range infoHashes {
		raw, err := hex.DecodeString(ih)
		if err != nil {
			t.Fatal(err)
		}
		q := url.Values{"info_hash": {string(raw)}, "peer_id": {"-PS0000-probeprobepr"},
			"port": {"1"}, "uploaded": {"0"}, "downloaded": {"0"}, "left": {"0"}, "event": {"stopped"}}
		waitFor(t, "opentracker to accept "+ih, func() bool {
			resp, err := http.Get(announce + "?" + q.Encode())
			if err != nil {
				return false
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK && !bytes.Contains(body, []byte("failure reason"))
		})
	}
	return announce
}

// torrentMake runs `prestaged torrent make` and returns the info-hash.
func torrentMake(t *testing.T, file, out string, extra ...string) string {
	t.Helper()
	r := run(t, append([]string{"torrent", "make", "--json", "-o", out}, append(extra, file)...)...)
	var got struct{ InfoHash string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
		t.Fatalf("torrent make: %s", r)
	}
	return got.InfoHash
}

// btHost is one host's spec: blocks written as given, one image "vm".
type btHost struct {
	*site
	blocks  string // peer, torrent and mirror blocks
	image   string // extra attributes of the image
	sources string
	stall   string // stall_timeout; empty: 3s
}

func (h btHost) writeSpec(i img) string {
	spec := fmt.Sprintf(`store = %q
stall_timeout = %q

mirror "m" {
  url = "mirror/"
}
%s
image "vm" {
  sha256  = %q
  size    = %d
  path    = "vm.img"
  install = "images/vm.img"
  sources = %s
%s}
`, h.path("store"), cmp.Or(h.stall, "3s"), h.blocks, i.digest(), i.length(), h.sources, h.image)
	p := h.path("spec.hcl")
	if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// applyJSON runs apply --json and returns the image's bytes by source.
func applyBySource(t *testing.T, spec string) map[string]int64 {
	t.Helper()
	r := run(t, "apply", "--json", "--no-progress", spec)
	var out struct {
		Result struct {
			Images []struct {
				Status string           `json:"status"`
				Bytes  map[string]int64 `json:"bytes_by_source"`
			} `json:"images"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 || len(out.Result.Images) != 1 {
		t.Fatalf("apply %s: %v\n%s", spec, err, r)
	}
	if s := out.Result.Images[0].Status; s != "fetched" {
		t.Fatalf("apply %s: image %s\n%s", spec, s, r)
	}
	return out.Result.Images[0].Bytes
}

// TestTorrentFromServe: host A installs from its mirror and serves; host B,
// whose only source is the swarm, finds A's metainfo at A's /v1/torrents
// and A's swarm from the tree alone; aria2c leeches from A through
// opentracker with that same .torrent.
func TestTorrentFromServe(t *testing.T) {
	aria2c := testutil.Need(t, "aria2c")
	a, image, specA, httpA, swarmAddr, tracker, infoHash := installedHost(t, 21)
	serveA := btProgram(t, prestaged, "serve", specA)
	btListening(t, httpA)
	btListening(t, swarmAddr)

	served := fetchMetainfo(t, "http://"+httpA+"/v1/torrents/sha256/"+image.digest())
	torrentFile := filepath.Join(t.TempDir(), "vm.torrent")
	if err := os.WriteFile(torrentFile, served, 0o644); err != nil {
		t.Fatal(err)
	}
	if mi, err := metainfo.LoadFromFile(torrentFile); err != nil || mi.HashInfoBytes().HexString() != infoHash || mi.Announce != tracker {
		t.Errorf("serve's metainfo: %v; want the info-hash of `prestaged torrent make` (%s) and the tracker", err, infoHash)
	}
	if r, err := http.Get("http://" + httpA + "/v1/torrents/sha256/" + strings.Repeat("ab", 32)); err != nil || r.StatusCode != http.StatusNotFound {
		t.Errorf("metainfo of a digest not in the spec: %v %v, want 404", r.Status, err)
	}

	// B uses the same torrent.listen as A (one port for the whole farm):
	// its apply listens on an ephemeral port and dials A's swarm there.
	b := swarmOnlyHost(t, image, httpA, swarmAddr)
	if mi := cachedMetainfo(t, b, image); mi == nil || mi.HashInfoBytes().HexString() != infoHash {
		t.Errorf("host B kept metainfo %v for its serve, want info-hash %s", mi, infoHash)
	}

	dir := t.TempDir()
	args := append([]string{"--dir=" + dir, "--listen-port=" + strconv.Itoa(testutil.FreePort(t)),
		"--seed-time=0", "--bt-tracker-interval=1", "--bt-stop-timeout=50"}, testutil.Aria2Quiet...)
	if out, err := exec.Command(aria2c, append(args, torrentFile)...).CombinedOutput(); err != nil {
		t.Fatalf("aria2c leeching from serve: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "vm.img")); !bytes.Equal(got, image.content) {
		t.Error("aria2c downloaded other bytes than the image from prestaged serve")
	}
	// B's apply has left the swarm: all aria2c got came from serve.
	m := serveMetrics(t, httpA)
	if m["prestaged_torrent_seeding"] != 1 || m["prestaged_torrent_uploaded_bytes_total"] < btSize {
		t.Errorf("serve's metrics after aria2c leeched the image: seeding %v, uploaded %v bytes, want 1 and at least %d",
			m["prestaged_torrent_seeding"], m["prestaged_torrent_uploaded_bytes_total"], btSize)
	}

	// The metainfo was kept for a restart; an image that left the spec
	// (SIGHUP) has no torrent any more.
	if _, err := os.Stat(a.path("store", "torrents", "sha256", image.digest()+".torrent")); err != nil {
		t.Errorf("metainfo not cached in the store: %v", err)
	}
	other := img{name: "vm", content: []byte("another image")}
	a.writeSpec(other)
	if err := serveA.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the torrent of a removed image to go", func() bool {
		r, err := http.Get("http://" + httpA + "/v1/torrents/sha256/" + image.digest())
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == http.StatusNotFound
	})
}

// swarmOnlyHost is a host B whose only source is the swarm, found from its
// parent at httpA: it installs image, all of it from the swarm at swarmAddr.
func swarmOnlyHost(t *testing.T, image img, httpA, swarmAddr string) btHost {
	t.Helper()
	b := btHost{site: newSite(t), sources: `["torrent"]`}
	b.blocks = fmt.Sprintf("peer {\n  listen = \"127.0.0.1:0\"\n  parents = [%q]\n}\ntorrent {\n  listen = %q\n  peers_from_tree = true\n}\n",
		httpA, swarmAddr)
	if got := applyBySource(t, b.writeSpec(image)); got["torrent"] != btSize {
		t.Errorf("host B bytes by source: %v, want all %d from torrent", got, btSize)
	}
	if !bytes.Equal(b.installed("vm"), image.content) {
		t.Error("host B installed other bytes than the image")
	}
	return b
}

// installedHost is host A of the serve tests: it installed an image (of
// content seed) from its mirror, and its spec (specA) has a peer server at
// httpA and a swarm at swarmAddr announcing to an opentracker that knows
// the image's info-hash. Its serve is not started.
func installedHost(t *testing.T, seed uint64) (a btHost, image img, specA, httpA, swarmAddr, tracker, infoHash string) {
	t.Helper()
	image = img{name: "vm", content: randomBytes(btSize, seed)}
	a = btHost{site: newSite(t), sources: `["mirror.m"]`}
	a.publish(image)
	infoHash = torrentMake(t, a.path("mirror", "vm.img"), filepath.Join(t.TempDir(), "vm.torrent"))
	tracker = btTracker(t, infoHash)
	swarmAddr = fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	httpA = fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	a.blocks = fmt.Sprintf("peer {\n  listen = %q\n}\ntorrent {\n  listen = %q\n  tracker = %q\n}\n", httpA, swarmAddr, tracker)
	specA = a.writeSpec(image)
	if got := applyBySource(t, specA); got["mirror.m"] != btSize {
		t.Fatalf("host A bytes by source: %v", got)
	}
	return a, image, specA, httpA, swarmAddr, tracker, infoHash
}

// serveMetrics reads the unlabelled samples of serve's GET /metrics.
func serveMetrics(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if f, err := strconv.ParseFloat(value, 64); ok && err == nil && !strings.HasPrefix(name, "#") {
			m[name] = f
		}
	}
	return m
}

func fetchMetainfo(t *testing.T, u string) []byte {
	t.Helper()
	var body []byte
	waitFor(t, "metainfo at "+u, func() bool {
		resp, err := http.Get(u)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return body
}

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

// TestTorrentFromAria2c: aria2c seeds an image whose .torrent `prestaged
// torrent make` wrote (found through opentracker); then aria2c holds only
// two of the three pieces of another image: prestaged takes them, the swarm
// stalls, and the mirror sends the rest from the first missing piece on.
func TestTorrentFromAria2c(t *testing.T) {
	w := startAria2cSwarm(t)
	full, part, seedDir, partDir, fullIH := w.full, w.part, w.seedDir, w.partDir, w.fullIH

	t.Run("seeder", func(t *testing.T) {
		h := w.host(t, `["torrent"]`, "", fmt.Sprintf("  torrent_url = %q\n  infohash = %q\n", filepath.Join(seedDir, "vm.torrent"), fullIH))
		if got := applyBySource(t, h.writeSpec(full)); got["torrent"] != btSize {
			t.Errorf("bytes by source: %v, want all %d from torrent", got, btSize)
		}
		wantInstalled(t, h, full, "installed other bytes than the image aria2c seeds")
		// The swarm's metainfo is kept for serve, without the published
		// .torrent's tracker.
		if mi := cachedMetainfo(t, h, full); mi == nil || mi.HashInfoBytes().HexString() != fullIH || mi.Announce != "" {
			t.Errorf("cached metainfo %+v: want info-hash %s and no tracker", mi, fullIH)
		}
	})
	t.Run("infohash only", func(t *testing.T) {
		// No .torrent anywhere: the info comes from aria2c over the swarm
		// (BEP 9), checked against the spec's infohash. Until it has, no
		// byte arrives: the stall timeout must allow a few announces.
		h := w.host(t, `["torrent"]`, "", fmt.Sprintf("  infohash = %q\n", fullIH))
		h.stall = "30s"
		if got := applyBySource(t, h.writeSpec(full)); got["torrent"] != btSize {
			t.Errorf("bytes by source: %v, want all %d from torrent", got, btSize)
		}
		wantInstalled(t, h, full, "installed other bytes than the image aria2c seeds")
	})
	t.Run("swarm of other bytes", func(t *testing.T) {
		// The .torrent describes another image of the same size: the swarm
		// delivers it whole, the digest refuses it, the mirror sends the
		// image, and the swarm's metainfo is not kept for it.
		h := w.partHost(t, "  web_seed = false\n", seedDir)
		r := run(t, "apply", "--json", "--no-progress", h.writeSpec(part))
		if bad := badSources(t, r); r.code != 0 || !slices.Equal(bad, []string{"torrent"}) {
			t.Fatalf("apply: want the swarm named as a bad source and the image installed, got %q\n%s", bad, r)
		}
		wantInstalled(t, h, part, "installed other bytes than the image")
		wantNoMetainfo(t, h, part, "kept the metainfo of other bytes for the image")
	})
	// Before "web seed": there the host's swarm takes the piece aria2c
	// lacks from the mirror and offers it to aria2c, which, still a
	// leecher, may download it and then seed the whole image here.
	t.Run("stall then mirror", func(t *testing.T) {
		h := w.partHost(t, "  web_seed = false\n", partDir)
		got := applyBySource(t, h.writeSpec(part))
		// Pieces 0 and 2 came from the swarm; the mirror resumed at piece 1
		// and wrote piece 2 again on its way to the end.
		want := map[string]int64{"torrent": btSize - 4<<20, "mirror.m": btSize - 4<<20}
		if got["torrent"] != want["torrent"] || got["mirror.m"] != want["mirror.m"] {
			t.Errorf("bytes by source: %v, want %v", got, want)
		}
		wantInstalled(t, h, part, "installed other bytes than the image")
		// The mirror finished the image: the pieces it sent were never
		// checked against the metainfo, which is therefore not kept.
		wantNoMetainfo(t, h, part, "metainfo cached after the mirror finished the image")
	})
	t.Run("web seed", func(t *testing.T) {
		// The mirror is the swarm's web seed: the piece aria2c lacks comes
		// from it into the swarm, and the swarm never stalls.
		h := w.partHost(t, "", partDir)
		if got := applyBySource(t, h.writeSpec(part)); got["torrent"] != btSize || got["mirror.m"] != 0 {
			t.Errorf("bytes by source: %v, want all %d through the swarm", got, btSize)
		}
		wantInstalled(t, h, part, "installed other bytes than the image")
	})
}

// aria2cSwarm is the swarm of TestTorrentFromAria2c: aria2c seeds full
// from seedDir and two of the three pieces of part from partDir, each with
// a vm.torrent announcing to tracker.
type aria2cSwarm struct {
	full, part                        img
	seedDir, partDir, tracker, fullIH string
}

func startAria2cSwarm(t *testing.T) *aria2cSwarm {
	t.Helper()
	aria2c := testutil.Need(t, "aria2c")
	full := img{name: "vm", content: randomBytes(btSize, 22)}
	part := img{name: "vm", content: randomBytes(btSize, 23)}
	seedDir, partDir := t.TempDir(), t.TempDir()
	for dir, i := range map[string]img{seedDir: full, partDir: part} {
		if err := os.WriteFile(filepath.Join(dir, "vm.img"), i.content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fullIH := torrentMake(t, filepath.Join(seedDir, "vm.img"), filepath.Join(seedDir, "probe.torrent"))
	partIH := torrentMake(t, filepath.Join(partDir, "vm.img"), filepath.Join(partDir, "probe.torrent"))
	tracker := btTracker(t, fullIH, partIH)
	torrentMake(t, filepath.Join(seedDir, "vm.img"), filepath.Join(seedDir, "vm.torrent"), "--tracker", tracker)
	torrentMake(t, filepath.Join(partDir, "vm.img"), filepath.Join(partDir, "vm.torrent"), "--tracker", tracker)
	// aria2c's copy of part lacks its middle piece: it offers pieces 0 and 2.
	corrupt := bytes.Clone(part.content)
	copy(corrupt[5<<20:], bytes.Repeat([]byte{0xee}, 4096))
	if err := os.WriteFile(filepath.Join(partDir, "vm.img"), corrupt, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{seedDir, partDir} {
		port := testutil.FreePort(t)
		args := append([]string{"--dir=" + dir, "--listen-port=" + strconv.Itoa(port), "--check-integrity=true",
			"--seed-ratio=0.0", "--bt-tracker-interval=1"}, testutil.Aria2Quiet...)
		btProgram(t, aria2c, append(args, filepath.Join(dir, "vm.torrent"))...)
		btListening(t, fmt.Sprintf("127.0.0.1:%d", port))
	}
	return &aria2cSwarm{full: full, part: part, seedDir: seedDir, partDir: partDir, tracker: tracker, fullIH: fullIH}
}

// host is a host of the swarm, with sources, extra lines of its torrent
// block and the torrent lines of its image.
func (w *aria2cSwarm) host(t *testing.T, sources, torrentExtra, image string) btHost {
	return btHost{site: newSite(t), sources: sources, image: image,
		blocks: fmt.Sprintf("torrent {\n  listen = \"127.0.0.1:0\"\n  tracker = %q\n%s}\n", w.tracker, torrentExtra)}
}

// partHost is a host of the swarm and the mirror that installs part, with
// the .torrent in dir and extra lines of its torrent block.
func (w *aria2cSwarm) partHost(t *testing.T, torrentExtra, dir string) btHost {
	h := w.host(t, `["torrent", "mirror.m"]`, torrentExtra, fmt.Sprintf("  torrent_url = %q\n", filepath.Join(dir, "vm.torrent")))
	h.publish(w.part)
	return h
}

// wantInstalled fails the test with complaint unless h installed i.
func wantInstalled(t *testing.T, h btHost, i img, complaint string) {
	t.Helper()
	if !bytes.Equal(h.installed(i.name), i.content) {
		t.Error(complaint)
	}
}

// wantNoMetainfo fails the test with complaint if h's store keeps a
// metainfo for i.
func wantNoMetainfo(t *testing.T, h btHost, i img, complaint string) {
	t.Helper()
	if mi := cachedMetainfo(t, h, i); mi != nil {
		t.Errorf("%s: %s", complaint, mi.HashInfoBytes().HexString())
	}
}

// cachedMetainfo is the metainfo h's store keeps for serve, nil if none.
func cachedMetainfo(t *testing.T, h btHost, i img) *metainfo.MetaInfo {
	t.Helper()
	mi, err := metainfo.LoadFromFile(h.path("store", "torrents", "sha256", i.digest()+".torrent"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return mi
}

// TestTorrentSeedsEndorsed: serve seeds an endorsed image too, named by the
// file its list's hv:uri gives (so `prestaged torrent make` of that file
// has the same info-hash); a host whose only source is the swarm fetches it
// there; once the endorser drops the image, serve stops offering it.
func TestTorrentSeedsEndorsed(t *testing.T) {
	s := newSubscriber(t)
	image := img{name: "vm", content: randomBytes(btSize, 23)}
	l := s.newList(image)
	s.publish(s.pki.valid(t, l, "1"))
	swarmAddr := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	httpA := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	spec := s.spec("", "vm")
	f, err := os.OpenFile(spec, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = fmt.Fprintf(f, "\npeer {\n  listen = %q\n}\ntorrent {\n  listen = %q\n}\n", httpA, swarmAddr)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, spec, 2)
	btProgram(t, prestaged, "serve", spec)
	btListening(t, httpA)
	btListening(t, swarmAddr)

	u, err := url.Parse(l.Image("vm").URI)
	if err != nil {
		t.Fatal(err)
	}
	want := torrentMake(t, u.Path, filepath.Join(t.TempDir(), "vm.torrent"))
	served := fetchMetainfo(t, "http://"+httpA+"/v1/torrents/sha256/"+image.digest())
	if mi, err := metainfo.Load(bytes.NewReader(served)); err != nil || mi.HashInfoBytes().HexString() != want {
		t.Fatalf("serve's metainfo of the endorsed image: %v; want the info-hash of `prestaged torrent make` of the published file (%s)", err, want)
	}

	swarmOnlyHost(t, image, httpA, swarmAddr)

	l.Images = nil
	s.publish(s.pki.valid(t, l, "2"))
	mustApply(t, spec, 2)
	waitFor(t, "serve to stop offering the revoked image's torrent", func() bool {
		r, err := http.Get("http://" + httpA + "/v1/torrents/sha256/" + image.digest())
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == http.StatusNotFound
	})
}
