package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prestaged/prestaged/spec"
)

// Strategy is one way of distributing the image.
type Strategy string

const (
	Mirror  Strategy = "mirror"   // every host fetches from the mirror
	SAFTree Strategy = "saf-tree" // store-and-forward binary tree (2010)
	Tree    Strategy = "tree"     // pipelined binary tree
	Chain   Strategy = "chain"    // pipelined chain (fanout 1)
	// Aria2c is issue 5's peer baseline: one BitTorrent swarm of aria2c
	// clients, the mirror host the first seed, opentracker as tracker.
	Aria2c Strategy = "aria2c"
	// Torrent: every host in one swarm through prestaged's torrent source
	// (apply downloads, serve seeds), the mirror host the first seed over
	// HTTP (its nginx; each piece read by one host).
	Torrent Strategy = "torrent"
	// TreeTorrent: pipelined binary tree, the swarm when a parent stalls.
	TreeTorrent Strategy = "tree+torrent"
	// Default: the peer block names the hosts and this host, nothing
	// more; the tree is whatever prestaged makes of that.
	Default Strategy = "default"
)

// AllStrategies is the default order of the table.
var AllStrategies = []Strategy{Mirror, SAFTree, Tree, Chain}

// known are the strategies -strategies accepts.
var known = append(slices.Clone(AllStrategies), Aria2c, Torrent, TreeTorrent, Default)

// peered reports whether hosts run `prestaged serve` and fetch from parents.
func (s Strategy) peered() bool { return s != Mirror && s != Aria2c }

// tree reports whether hosts take their parents from the computed tree.
func (s Strategy) tree() bool { return s.peered() && s != Torrent }

// swarm reports whether the run needs the tracker and the mirror's seed.
func (s Strategy) swarm() bool { return s == Aria2c || s == Torrent || s == TreeTorrent }

// btSeed reports whether the mirror host runs a BitTorrent seed (aria2c).
// prestaged's swarm needs none: the mirror seeds over HTTP, each piece
// read by one host (torrent.Fetcher.WithOrigin).
func (s Strategy) btSeed() bool { return s == Aria2c }

func (s Strategy) fanout() int {
	if s == Chain {
		return 1
	}
	return 2
}

func (s Strategy) pipelined() bool { return s != SAFTree }

// parseStrategies reads a comma list; "all" stands for AllStrategies.
func parseStrategies(list string) ([]Strategy, error) {
	var out []Strategy
	for _, f := range strings.Split(list, ",") {
		s := Strategy(strings.TrimSpace(f))
		switch {
		case s == "all" || s == "":
			out = append(out, AllStrategies...)
		case slices.Contains(known, s):
			out = append(out, s)
		default:
			return nil, fmt.Errorf("unknown strategy %q (known: all = mirror, saf-tree, tree, chain; and aria2c, torrent, tree+torrent, default)", s)
		}
	}
	return slices.Compact(out), nil
}

// Config is one testbed: its hosts, image and links.
type Config struct {
	Hosts int
	Size  int64 // image bytes (raw)
	// ImageTree, if set, is a directory whose copy in an ext4 filesystem of
	// Size bytes is the image (mkfs.ext4 -d), instead of random bytes.
	ImageTree string
	// Publish are the forms the mirror offers, one row each per strategy:
	// spec.FormatRaw (the default) and spec.FormatZstd (installed as raw).
	Publish   []string
	Bandwidth spec.Rate // every link, both directions
	Prestaged string    // the binary every host runs
	Keep      bool      // leave installed copies and logs for inspection
	Seed      int64     // PRNG seed of the image bytes
	// ScenarioSeed draws each scenario's start times, slow and killed
	// hosts (newPlan).
	ScenarioSeed int64
	// Logs, if set, is a directory where every host's spec and logs go,
	// under <strategy>/h<i>/, and stay after the run: the runs that need
	// explaining are rarely the ones run with Keep. A strategy run again
	// replaces its own.
	Logs string
	// StallTimeout goes into every host's spec.
	StallTimeout time.Duration
	// MTU of every link; 0 is the kernel's 1500. Jumbo frames (9000) are
	// common on farm networks, and here they matter beyond realism: every
	// packet crosses two veths, a bridge and two tbf qdiscs on the same
	// cores as all the hosts, so at 1500 bytes a 32-host run measures the
	// machine's packet rate rather than the strategy (the chain took 2.31x
	// at 100 Mbit with 1500 and 1.40x with 9000 on a 2-core VM).
	MTU int
	// CongestionControl is the TCP congestion control of every host and the
	// mirror (net.ipv4.tcp_congestion_control in each namespace); "" keeps
	// what a new namespace inherits from the machine. A new namespace takes
	// the machine's setting, so without it the figures depend on the
	// machine that runs the bench: this one runs bbr, while the
	// distributions farms run (EL, Debian, Ubuntu) default to cubic. It
	// matters here: at N=32, 10 Mbit, 256 MiB the swarm lost 8-10% of what
	// it sent at the switch under bbr and 3-5% under cubic, because tbf
	// releases ACKs in bursts and bbr takes those for Gbit/s of bandwidth.
	CongestionControl string
	// GoMaxProcs is GOMAXPROCS for every process the testbed starts; 0
	// leaves Go's default (every core). A farm's host has its own cores;
	// here 64 processes share two, and each Go runtime's idle spinning
	// costs the others (chain at 100 Mbit: 1.40x with 2, 1.27x with 1).
	GoMaxProcs int
	// Verbose, if set, receives progress lines.
	Verbose func(format string, a ...any)
}

func (c *Config) logf(format string, a ...any) {
	if c.Verbose != nil {
		c.Verbose(format, a...)
	}
}

// mtu is the links' MTU as the kernel has it.
func (c *Config) mtu() int {
	if c.MTU > 0 {
		return c.MTU
	}
	return 1500
}

// goMaxProcs is GOMAXPROCS as the hosts' processes have it, for the note.
func (c *Config) goMaxProcs() string {
	if c.GoMaxProcs > 0 {
		return strconv.Itoa(c.GoMaxProcs)
	}
	return "every core"
}

// MaxHosts: the mirror is 10.77.0.1 and hosts are 10.77.0.2 and up.
const MaxHosts = 250

func (c *Config) check() error {
	switch {
	case c.Hosts < 1 || c.Hosts > MaxHosts:
		return fmt.Errorf("hosts: %d: want 1 to %d", c.Hosts, MaxHosts)
	case c.Size < 1:
		return fmt.Errorf("size: %d: want at least one byte", c.Size)
	case c.Bandwidth <= 0:
		return fmt.Errorf("bandwidth: must be a finite rate such as 100Mbit")
	case c.MTU != 0 && (c.MTU < 576 || c.MTU > 65535):
		return fmt.Errorf("mtu: %d: want 576 to 65535", c.MTU)
	case c.CongestionControl != "" && !congestionControlAvailable(c.CongestionControl):
		return fmt.Errorf("TCP congestion control %q is not available in this kernel (net.ipv4.tcp_available_congestion_control: %s); give -cc one of those, or -cc \"\" for the machine's default", c.CongestionControl, availableCongestionControl())
	case c.GoMaxProcs < 0:
		return fmt.Errorf("gomaxprocs: %d: want 0 (Go's default) or more", c.GoMaxProcs)
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 10 * time.Second
	}
	return nil
}

// bound is the physical limit: the time one link needs for the image.
func (c *Config) bound() time.Duration {
	return time.Duration(float64(c.Size*8) / float64(c.Bandwidth) * float64(time.Second))
}

// formatSize is the inverse of spec.ParseSize for the table.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		v    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.v && n%u.v == 0 {
			return fmt.Sprintf("%d%s", n/u.v, u.name)
		}
	}
	return fmt.Sprintf("%dB", n)
}

// ipv4Sysctl reads net.ipv4.<name> as this process's namespace has it; a
// new namespace starts from the same values.
func ipv4Sysctl(name string) (string, error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/" + name)
	return strings.TrimSpace(string(b)), err
}

func availableCongestionControl() string {
	v, err := ipv4Sysctl("tcp_available_congestion_control")
	if err != nil {
		return err.Error()
	}
	return v
}

func congestionControlAvailable(cc string) bool {
	return slices.Contains(strings.Fields(availableCongestionControl()), cc)
}

// congestionControl is the hosts' TCP congestion control, for the note.
func (c *Config) congestionControl() string {
	if c.CongestionControl != "" {
		return c.CongestionControl
	}
	v, err := ipv4Sysctl("tcp_congestion_control")
	if err != nil {
		return "the machine's default"
	}
	return v + " (the machine's default)"
}

// publish is Publish, or raw alone.
func (c *Config) publish() []string {
	if len(c.Publish) == 0 {
		return []string{spec.FormatRaw}
	}
	return c.Publish
}
