package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The aria2c strategy is the peer baseline of issue 5: the same swarm as
// the torrent strategy, run with aria2c on every host and on the mirror
// host (the first seed), with opentracker on the mirror host.

const (
	trackerPort = 6969
	btPort      = 6881
	torrentName = imageName + ".torrent"
)

func trackerURL() string { return fmt.Sprintf("http://%s:%d/announce", mirrorAddr, trackerPort) }

// swarm is the tracker and the first seed, both on the mirror host.
type swarm struct {
	tracker, seed *proc
}

// startSwarm writes the .torrent beside the image on the mirror (so hosts
// may also fetch it over HTTP) and starts opentracker and, if btSeed, an
// aria2c seed. Without it, the mirror seeds over HTTP: prestaged's swarm
// reads the pieces no peer holds from the mirror, each by one host.
func (tb *Testbed) startSwarm(ctx context.Context, btSeed bool) (*swarm, error) {
	mirrorDir := filepath.Join(tb.fs, "mirror")
	infoHash, err := tb.makeTorrent(ctx, mirrorDir)
	if err != nil {
		return nil, err
	}
	sw := &swarm{}
	log := filepath.Join(tb.dir, "swarm.log")
	if sw.tracker, err = tb.startTracker(ctx, infoHash, log); err != nil {
		return nil, err
	}
	if !btSeed {
		return sw, nil
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	torrent := filepath.Join(mirrorDir, torrentName)
	args := append(aria2Args(mirrorDir), "--bt-seed-unverified=true", torrent)
	if sw.seed, err = tb.startAria2(mirrorNS, "aria2c seed", log, args); err == nil {
		err = sw.seed.waitListening(wctx, btPort, log)
	}
	if err != nil {
		sw.stop()
		return nil, err
	}
	return sw, nil
}

// makeTorrent writes the image's .torrent beside it on the mirror, once,
// and returns its info-hash.
func (tb *Testbed) makeTorrent(ctx context.Context, mirrorDir string) (string, error) {
	torrent := filepath.Join(mirrorDir, torrentName)
	mk := exec.CommandContext(ctx, tb.cfg.Prestaged, "torrent", "make", "--json", "--tracker", trackerURL(),
		"-o", torrent, filepath.Join(mirrorDir, imageName))
	out, err := mk.Output()
	if err != nil {
		return "", fmt.Errorf("prestaged torrent make: %w", err)
	}
	var made struct {
		InfoHash string `json:"infohash"`
	}
	if err := json.Unmarshal(out, &made); err != nil || made.InfoHash == "" {
		return "", fmt.Errorf("prestaged torrent make: no infohash in %q: %v", out, err)
	}
	return made.InfoHash, nil
}

// startTracker runs opentracker on the mirror host. Debian builds it with a
// whitelist, which it reads after chrooting to its dir (as nobody, hence a
// dir of its own, 0755) and loads in the background: wait until it accepts
// the image, since a seed refused at its first announce would not announce
// again for many minutes.
func (tb *Testbed) startTracker(ctx context.Context, infoHash, log string) (*proc, error) {
	bin, err := exec.LookPath("opentracker")
	if err != nil {
		return nil, fmt.Errorf("the swarm needs opentracker: %w", err)
	}
	dir := filepath.Join(tb.dir, "tracker")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "whitelist"), []byte(infoHash+"\n"), 0o644); err != nil {
		return nil, err
	}
	port := strconv.Itoa(trackerPort)
	p, err := tb.procs.start("opentracker", mirrorNS, log, bin, "-i", mirrorAddr, "-p", port, "-P", port, "-d", dir, "-w", "whitelist")
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := p.waitListening(wctx, trackerPort, log); err != nil {
		p.kill()
		return nil, err
	}
	if err := waitWhitelisted(wctx, infoHash); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// waitWhitelisted announces event=stopped (leaving no peer behind) from the
// mirror host until the tracker answers without a failure reason.
func waitWhitelisted(ctx context.Context, infoHash string) error {
	raw, err := hex.DecodeString(infoHash)
	if err != nil {
		return err
	}
	q := url.Values{"info_hash": {string(raw)}, "peer_id": {"-PS0000-probeprobepr"},
		"port": {"1"}, "uploaded": {"0"}, "downloaded": {"0"}, "left": {"0"}, "event": {"stopped"}}
	for {
		out, err := exec.CommandContext(ctx, "ip", "netns", "exec", mirrorNS, "curl", "-sf", "--max-time", "2",
			trackerURL()+"?"+q.Encode()).Output()
		if err == nil && !strings.Contains(string(out), "failure reason") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("opentracker does not accept info-hash %s: %w", infoHash, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (sw *swarm) stop() {
	for _, p := range []*proc{sw.seed, sw.tracker} {
		if p != nil {
			p.kill()
		}
	}
}

// aria2Args keep aria2c on the testbed's bridge (no DHT, no local peer
// discovery), seeding until it is killed, quiet.
func aria2Args(dir string) []string {
	return []string{"--dir=" + dir, "--seed-ratio=0.0", "--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false", "--disable-ipv6=true", "--auto-file-renaming=false", "--listen-port=" + strconv.Itoa(btPort), "--file-allocation=none",
		"--console-log-level=warn", "--summary-interval=0", "--show-console-readout=false",
		"--bt-max-peers=0", "--follow-torrent=false", "--auto-save-interval=0"}
}

func (tb *Testbed) startAria2(ns, name, log string, args []string) (*proc, error) {
	bin, err := exec.LookPath("aria2c")
	if err != nil {
		return nil, fmt.Errorf("the aria2c strategy needs aria2c: %w", err)
	}
	return tb.procs.start(name, ns, log, bin, args...)
}

// benchAria2 runs aria2c on every host at once; a host's time is when
// aria2c's download-complete hook ran (it goes on seeding, as peers do).
func (tb *Testbed) benchAria2(ctx context.Context) (*Result, error) {
	if err := tb.resetHosts(Aria2c); err != nil {
		return nil, err
	}
	sw, err := tb.startSwarm(ctx, true)
	if err != nil {
		return nil, err
	}
	defer sw.stop()
	ctx, cancel := context.WithTimeout(ctx, tb.timeout(Aria2c, Together))
	defer cancel()
	torrent := filepath.Join(tb.fs, "mirror", torrentName)
	hosts := make([]*proc, tb.cfg.Hosts)
	defer func() {
		for _, p := range hosts {
			if p != nil {
				p.kill()
			}
		}
	}()
	ports0 := switchPorts(ctx)
	t0 := time.Now()
	for i := range hosts {
		p := tb.paths(i)
		if err := tb.aria2Hook(p); err != nil {
			return nil, err
		}
		args := append(aria2Args(filepath.Dir(p.install)), "--on-bt-download-complete="+filepath.Join(p.dir, "done.sh"), torrent)
		if hosts[i], err = tb.startAria2(hostNS(i), fmt.Sprintf("aria2c h%d", i), p.applyLog, args); err != nil {
			return nil, err
		}
	}
	r := &Run{tb: tb, Strategy: Aria2c, t0: t0, verify: make(chan struct{}, 1)}
	res := tb.newResult(Aria2c)
	for i := range hosts {
		res.PerHost[i] = r.waitAria2(ctx, i, hosts[i])
	}
	// aria2c seeds until it is killed: its usage covers the whole run, as
	// a serve's and an apply's together do.
	ports := switchPorts(ctx)
	res.MirrorSent, res.SwitchLost = ports.mirror-ports0.mirror, ports.lostSince(ports0)
	tb.measureCPU(res, t0)
	for i, p := range hosts {
		p.kill()
		res.PerHost[i].Apply = p.resources()
	}
	tb.summarise(res)
	return res, nil
}

// aria2Hook writes the script aria2c runs when host's download completes:
// it records the time.
func (tb *Testbed) aria2Hook(p hostPaths) error {
	if err := os.MkdirAll(filepath.Dir(p.install), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	script := fmt.Sprintf("#!/bin/sh\ndate +%%s.%%N > %s.tmp && mv %[1]s.tmp %[1]s\n", filepath.Join(p.dir, "done"))
	return os.WriteFile(filepath.Join(p.dir, "done.sh"), []byte(script), 0o755)
}

// waitAria2 waits for host i's completion mark and hashes its file.
func (r *Run) waitAria2(ctx context.Context, i int, p *proc) HostResult {
	res := HostResult{Host: hostAddr(i), ExitCode: -1}
	paths := r.tb.paths(i)
	for {
		b, err := os.ReadFile(filepath.Join(paths.dir, "done"))
		if err == nil {
			sec, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
			res.Seconds = sec - float64(r.t0.UnixNano())/1e9
			break
		}
		if p.exited() {
			res.Error = fmt.Sprintf("aria2c exited before completing: %v%s", p.err, tail(paths.applyLog))
			return res
		}
		select {
		case <-ctx.Done():
			res.Error = fmt.Sprintf("aria2c did not complete: %v", ctx.Err())
			return res
		case <-time.After(50 * time.Millisecond):
		}
	}
	res.ExitCode = 0
	if err := r.check(ctx, paths.install); err != nil {
		res.Error = err.Error()
		return res
	}
	res.Verified = true
	return res
}
