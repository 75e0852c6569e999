package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// TestSpecsValidate: every host's generated spec, for every strategy,
// validates, and the tree it describes is the one the testbed means. No
// root needed.
func TestSpecsValidate(t *testing.T) {
	tb := &Testbed{cfg: Config{Hosts: 5, Size: 1 << 20, StallTimeout: 7e9}, fs: t.TempDir(), dir: t.TempDir(),
		pub: published{format: spec.FormatRaw, name: imageName, digest: strings.Repeat("ab", 32), size: 1 << 20}}
	for _, s := range known {
		if s == Aria2c {
			continue // aria2c reads no spec
		}
		for i := range tb.cfg.Hosts {
			if err := tb.writeSpec(i, s); err != nil {
				t.Fatal(err)
			}
			got, diags := spec.Parse(tb.paths(i).spec)
			if diags.HasErrors() {
				t.Fatalf("%s host %d: %s", s, i, diags.Error())
			}
			var want []string
			if s.tree() {
				hosts := make([]string, tb.cfg.Hosts)
				for j := range hosts {
					hosts[j] = hostPeer(j)
				}
				fanout := s.fanout()
				if s == Default { // whatever prestaged makes of hosts and self
					fanout = got.Peer.Fanout
				}
				want, _ = spec.TreeParents(hosts, fanout, hostPeer(i))
			}
			var parents, sources []string
			if got.Peer != nil {
				parents = got.Peer.Parents
				if s != Default && got.Peer.Pipelined != s.pipelined() {
					t.Errorf("%s host %d: pipelined %t", s, i, got.Peer.Pipelined)
				}
			}
			if b, _ := os.ReadFile(tb.paths(i).spec); s == Default && (strings.Contains(string(b), "fanout") || strings.Contains(string(b), "pipelined")) {
				t.Errorf("default host %d: its spec sets more than hosts and self:\n%s", i, b)
			}
			for _, src := range got.Images[0].Sources {
				sources = append(sources, src.String())
			}
			if !slices.Equal(parents, want) {
				t.Errorf("%s host %d: parents %v, want %v", s, i, parents, want)
			}
			if want := wantSources(s, i); !slices.Equal(sources, want) {
				t.Errorf("%s host %d: sources %v, want %v", s, i, sources, want)
			}
		}
	}
}

// wantSources are the sources host i of the tree lists for strategy s.
func wantSources(s Strategy, i int) []string {
	switch {
	case s == TreeTorrent && i == 0: // the root streams the mirror in order
		return []string{"mirror.m", "torrent"}
	case s == TreeTorrent:
		return []string{"parents", "torrent", "mirror.m"}
	case s == Torrent:
		return []string{"torrent", "mirror.m"}
	case s.tree() && i > 0:
		return []string{"parents", "mirror.m"}
	}
	return []string{"mirror.m"}
}

// The size parser itself is tested in spec (TestParseSize).
func TestFormatSize(t *testing.T) {
	if got := formatSize(256 << 20); got != "256MiB" {
		t.Errorf("formatSize: %s", got)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p50, p99 := percentile(v, 50), percentile(v, 99); p50 != 5 || p99 != 10 {
		t.Errorf("p50 %v p99 %v", p50, p99)
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

func TestParseStrategies(t *testing.T) {
	got, err := parseStrategies("all,aria2c")
	if want := append(slices.Clone(AllStrategies), Aria2c); err != nil || !slices.Equal(got, want) {
		t.Errorf("all,aria2c: %v, %v", got, err)
	}
	if _, err := parseStrategies("tree,bittyrant"); err == nil {
		t.Error("unknown strategy accepted")
	}
}

// TestLogsPerStrategy: with Logs set, each strategy's specs and logs go to
// their own directory there and survive Prepare for the next strategy.
func TestLogsPerStrategy(t *testing.T) {
	logs := t.TempDir()
	tb := &Testbed{cfg: Config{Hosts: 2, Size: 1 << 20, StallTimeout: 7e9, Logs: logs}, fs: t.TempDir(), dir: t.TempDir(),
		pub: published{format: spec.FormatRaw, name: imageName, digest: strings.Repeat("ab", 32), size: 1 << 20}}
	for _, s := range []Strategy{Tree, Chain} {
		if _, err := tb.Prepare(s); err != nil {
			t.Fatal(err)
		}
		if got, want := tb.paths(1).applyLog, filepath.Join(logs, string(s), "h1", "apply.log"); got != want {
			t.Errorf("%s: apply log at %s, want %s", s, got, want)
		}
	}
	if err := tb.resetHosts(Aria2c); err != nil { // as benchAria2 does
		t.Fatal(err)
	}
	if got, want := tb.paths(1).applyLog, filepath.Join(logs, string(Aria2c), "h1", "apply.log"); got != want {
		t.Errorf("aria2c: log at %s, want %s", got, want)
	}
	for _, s := range []Strategy{Tree, Chain} {
		if _, err := os.Stat(filepath.Join(logs, string(s), "h1", "spec.hcl")); err != nil {
			t.Errorf("%s's spec is gone: %v", s, err)
		}
	}
}

// TestCongestionControlChecked: a congestion control the kernel lacks is
// refused before any namespace is made, naming the ones it has.
func TestCongestionControlChecked(t *testing.T) {
	cfg := Config{Hosts: 2, Size: 1 << 20, Bandwidth: 1e7, CongestionControl: "no-such-cc"}
	err := cfg.check()
	if !testutil.ErrorContains(err, `"no-such-cc"`, "cubic") {
		t.Errorf("check: %v; want the name refused and the available ones listed", err)
	}
	cfg.CongestionControl = "cubic"
	if err := cfg.check(); err != nil {
		t.Errorf("cubic: %v", err)
	}
}

// TestSpecZstPublished: with a zstd copy published, every host's spec asks
// for it and installs it as raw.
func TestSpecZstPublished(t *testing.T) {
	tb := &Testbed{cfg: Config{Hosts: 3, Size: 1 << 20, StallTimeout: 7e9}, fs: t.TempDir(), dir: t.TempDir(),
		pub: published{format: spec.FormatZstd, name: imageName + ".zst", digest: strings.Repeat("cd", 32), size: 1000}}
	for i := range tb.cfg.Hosts {
		if err := tb.writeSpec(i, Tree); err != nil {
			t.Fatal(err)
		}
		got, diags := spec.Parse(tb.paths(i).spec)
		if diags.HasErrors() {
			t.Fatalf("host %d: %s", i, diags.Error())
		}
		img := got.Images[0]
		if img.Format != spec.FormatZstd || img.InstallFormat != spec.FormatRaw || img.Path != imageName+".zst" || img.Size != 1000 {
			t.Errorf("host %d: image %+v", i, img)
		}
	}
}
