package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// The tests assert correctness only: every host installed the right bytes,
// and the sources each host used. Times are for the table, never asserted.

func TestMain(m *testing.M) { testutil.Main(m) }

// prestaged is the binary, built once for every test of the package.
var prestaged = testutil.Shared[string]{What: "build prestaged", Pattern: "prestaged-testbed-bin-",
	Make: func(dir string) (string, error) {
		bin := filepath.Join(dir, "prestaged")
		return bin, testutil.GoBuild(bin, testutil.PrestagedPkg)
	}}

// prepare readies the hosts for a run of s, stopped when the test ends.
func prepare(t *testing.T, tb *Testbed, s Strategy) *Run {
	t.Helper()
	r, err := tb.Prepare(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// newTestbed makes a testbed for one test, removed when the test ends.
func newTestbed(t *testing.T, hosts int, size int64, rate string, stall time.Duration) (context.Context, *Testbed) {
	t.Helper()
	testutil.NeedRoot(t)
	testutil.NeedAll(t, "ip", "tc", "nginx")
	bw, err := spec.ParseRate(rate)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	cfg := Config{Hosts: hosts, Size: size, Bandwidth: bw, Prestaged: prestaged.Get(t), Seed: 7, ScenarioSeed: 1,
		StallTimeout: stall, CongestionControl: "cubic", Verbose: t.Logf}
	tb, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Cleanup(tb.Close)
	return ctx, tb
}

// TestTestbedSmall is the small case of `make check`: 6 hosts, 32 MiB,
// every strategy; every host must install the image's bytes.
func TestTestbedSmall(t *testing.T) {
	ctx, tb := newTestbed(t, 6, 32<<20, "200Mbit", 10*time.Second)
	for _, ns := range []string{mirrorNS, hostNS(5)} {
		out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.tcp_congestion_control").Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != "cubic" {
			t.Errorf("%s: TCP congestion control %q (%v), want cubic", ns, got, err)
		}
	}
	rep := Report{Note: tb.note()}
	for _, s := range AllStrategies {
		res, err := tb.Bench(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		rep.Results = append(rep.Results, res)
		for _, h := range res.PerHost {
			if !h.Verified {
				t.Errorf("%s: host %s: %s", s, h.Host, h.Error)
			}
		}
		if s.peered() {
			checkOnce(t, s, tb.cfg.Size, res.PerHost)
		}
	}
	var table strings.Builder
	writeTable(&table, rep)
	t.Logf("\n%s", table.String())
}

// TestTestbedSwarm is issue 5's testbed case: a small swarm through
// prestaged (torrent, tree+torrent) and aria2c; every host must install the
// image's bytes, and every host but the tree's root must have taken some
// of them from its swarm or its parents rather than all from the mirror.
func TestTestbedSwarm(t *testing.T) {
	testutil.NeedAll(t, "aria2c", "opentracker", "curl")
	ctx, tb := newTestbed(t, 4, 16<<20, "200Mbit", 10*time.Second)
	for _, s := range []Strategy{Torrent, TreeTorrent, Aria2c} {
		res, err := tb.Bench(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		t.Logf("%s", res)
		for i, h := range res.PerHost {
			if !h.Verified {
				t.Errorf("%s: host %s: %s", s, h.Host, h.Error)
			}
			if s != Aria2c && i > 0 && h.BytesBySource["mirror.m"] >= tb.cfg.Size {
				t.Errorf("%s: host %s fetched everything from the mirror (%v)", s, h.Host, h.BytesBySource)
			}
		}
		if s.peered() {
			checkOnce(t, s, tb.cfg.Size, res.PerHost)
		}
	}
}

// checkOnce: no host fetched more than the image (with 10% slack for a
// retried chunk), so none started again from zero.
func checkOnce(t *testing.T, s Strategy, size int64, hosts []HostResult) {
	t.Helper()
	for i, h := range hosts {
		total, fromMirror := int64(0), h.BytesBySource["mirror.m"]
		for _, n := range h.BytesBySource {
			total += n
		}
		if i > 0 && fromMirror > 0 {
			t.Logf("%s: host %s fetched %d bytes from the mirror (sources %v)", s, h.Host, fromMirror, h.BytesBySource)
		}
		if total > size+size/10 {
			t.Errorf("%s: host %s fetched %d bytes in all (%v): more than the image", s, h.Host, total, h.BytesBySource)
		}
	}
}
