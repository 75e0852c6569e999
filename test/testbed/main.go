// Command testbed distributes a generated image to N hosts, each a network
// namespace on one bridge with tc-capped links, running the real prestaged
// binary (serve and apply) against an nginx mirror, once per strategy, and
// prints a markdown table (or JSON) of the times. It needs root.
//
//	go run ./test/testbed -n 32 -size 256MiB -bandwidth 100Mbit
//
// Scenarios depart from every host starting at once on equal links:
// -start-spread D starts each host's apply at a uniform random time within
// D (serve runs on every host from before the first start, as with the
// packaged units); -slow-hosts K caps both directions of K hosts' links at
// a quarter of -bandwidth; -kill-hosts K kills K other hosts' serve and
// apply (SIGKILL) a third of size/bandwidth after the last start, for good.
// The hosts and times are drawn from -scenario-seed; host 0, the tree's
// root, is never slowed or killed. -scenarios runs several as rows of one
// run, each "together" or parts joined by "+":
//
//	go run ./test/testbed -strategies default,tree -scenarios together,spread=120s,slow=2,kill=2,spread=60s+kill=1
//
// A row's time runs from the last start until every live host but the
// slow ones verified; the slow hosts' own times are reported apart.
//
// Everything it makes is named "pst-…" (namespaces pst-sw, pst-m, pst-h0…,
// temp dir and tmpfs pst-testbed-*) and is removed on exit, on SIGINT or
// SIGTERM, and at the start of the next run if a run was killed. It is a
// harness: product code never imports it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prestaged/prestaged/spec"
)

func main() {
	os.Exit(run1())
}

type flags struct {
	hosts, mtu, gomaxprocs       int
	size, bandwidth, strats, bin string
	imageTree, publish           string
	cc                           string
	logs                         string
	keep, asJSON, clean, quiet   bool
	seed, scenarioSeed           int64
	stall                        time.Duration
	scenarios                    string
	single                       Scenario // -start-spread, -slow-hosts, -kill-hosts
}

func run1() int {
	var f flags
	flag.IntVar(&f.hosts, "n", 32, "number of hosts")
	flag.StringVar(&f.size, "size", "256MiB", "image size (KiB, MiB, GiB)")
	flag.StringVar(&f.bandwidth, "bandwidth", "100Mbit", "every link's rate, both directions")
	flag.StringVar(&f.strats, "strategies", "all", "comma list of mirror, saf-tree, tree, chain, aria2c, torrent, tree+torrent, default (hosts and self only: prestaged's default); all = the first four")
	flag.StringVar(&f.bin, "prestaged", "", "prestaged binary (default: build ./cmd/prestaged with CGO_ENABLED=0)")
	flag.BoolVar(&f.keep, "keep", false, "leave namespaces, stores, specs and logs for inspection (the next run removes them)")
	flag.StringVar(&f.logs, "logs", "", "keep every host's spec and logs in `DIR`/<strategy>/h<i>/ after the run (a strategy run again replaces its own)")
	flag.BoolVar(&f.asJSON, "json", false, "print JSON instead of the markdown table")
	flag.BoolVar(&f.clean, "clean", false, "only remove what an earlier run left, then exit")
	flag.BoolVar(&f.quiet, "q", false, "no progress lines on stderr")
	flag.Int64Var(&f.seed, "seed", 1, "seed of the image's bytes")
	flag.StringVar(&f.imageTree, "image-tree", "", "make the image an ext4 filesystem of -size holding a copy of `DIR` (mkfs.ext4 -d), not random bytes")
	flag.StringVar(&f.publish, "publish", "raw", "comma list of what the mirror publishes, one row each per strategy: raw, zst (installed as raw)")
	flag.DurationVar(&f.stall, "stall-timeout", 10*time.Second, "stall_timeout in every host's spec")
	flag.IntVar(&f.mtu, "mtu", 9000, "MTU of every link (1500: the kernel's default)")
	flag.StringVar(&f.cc, "cc", "cubic", "TCP congestion control of every host and the mirror (\"\": the machine's default)")
	flag.IntVar(&f.gomaxprocs, "gomaxprocs", 1, "GOMAXPROCS of every host's processes (0: Go's default, every core)")
	flag.DurationVar(&f.single.Spread, "start-spread", 0, "start each host's apply at a uniform random time within `DURATION` (serve runs on every host from the start)")
	flag.IntVar(&f.single.Slow, "slow-hosts", 0, "cap `K` random hosts' links (both ways) at a quarter of -bandwidth")
	flag.IntVar(&f.single.Kill, "kill-hosts", 0, "SIGKILL `K` random hosts' serve and apply a third of size/bandwidth after the last start")
	flag.Int64Var(&f.scenarioSeed, "scenario-seed", 1, "seed of the scenarios' start times, slow and killed hosts")
	flag.StringVar(&f.scenarios, "scenarios", "", "comma `list` of scenarios, one row each per strategy: together, spread=DURATION, slow=K, kill=K, or parts joined by + (instead of the three flags above)")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "testbed: needs root (network namespaces, tc, tmpfs)")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.clean {
		unlock, err := lock(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testbed:", err)
			return 1
		}
		defer unlock()
		cleanStale(ctx)
		if err := repairAllowedCC(); err != nil {
			fmt.Fprintln(os.Stderr, "testbed:", err)
			return 1
		}
		return 0
	}
	cfg, strategies, err := f.config()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbed:", err)
		return 2
	}
	scenarios, err := f.scenarioList(cfg.Hosts, strategies)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbed:", err)
		return 2
	}
	return bench(ctx, cfg, strategies, scenarios, f.asJSON)
}

// scenarioList is -scenarios, or the one scenario of the single flags.
func (f flags) scenarioList(hosts int, strategies []Strategy) ([]Scenario, error) {
	list := []Scenario{f.single}
	if f.scenarios != "" {
		if f.single != Together {
			return nil, fmt.Errorf("-scenarios goes instead of -start-spread, -slow-hosts and -kill-hosts, not with them")
		}
		var err error
		if list, err = parseScenarios(f.scenarios); err != nil {
			return nil, err
		}
	}
	for _, sc := range list {
		if err := sc.check(hosts); err != nil {
			return nil, err
		}
		if sc != Together && slices.Contains(strategies, Aria2c) {
			return nil, fmt.Errorf("aria2c runs every host at once on equal links only, not %s", sc)
		}
	}
	return list, nil
}

func (f flags) config() (Config, []Strategy, error) {
	cfg := Config{Hosts: f.hosts, Prestaged: f.bin, Keep: f.keep, Seed: f.seed, ScenarioSeed: f.scenarioSeed, StallTimeout: f.stall,
		MTU: f.mtu, GoMaxProcs: f.gomaxprocs, CongestionControl: f.cc}
	var err error
	if f.logs != "" {
		if cfg.Logs, err = filepath.Abs(f.logs); err != nil {
			return cfg, nil, err
		}
	}
	if cfg.Size, err = spec.ParseSize(f.size); err != nil {
		return cfg, nil, err
	}
	if cfg.Bandwidth, err = spec.ParseRate(f.bandwidth); err != nil {
		return cfg, nil, err
	}
	if !f.quiet {
		cfg.Verbose = func(format string, a ...any) {
			fmt.Fprintf(os.Stderr, "%s testbed: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
		}
	}
	cfg.ImageTree = f.imageTree
	for _, p := range strings.Split(f.publish, ",") {
		if p = strings.TrimSpace(p); p != spec.FormatRaw && p != spec.FormatZstd {
			return cfg, nil, fmt.Errorf("-publish: %q is neither raw nor zst", p)
		}
		cfg.Publish = append(cfg.Publish, strings.TrimSpace(p))
	}
	s, err := parseStrategies(f.strats)
	for _, st := range s {
		if st.swarm() && slices.ContainsFunc(cfg.Publish, func(p string) bool { return p != spec.FormatRaw }) {
			return cfg, nil, fmt.Errorf("-publish zst goes with the strategies without a swarm, not %s", st)
		}
	}
	return cfg, s, err
}

// bench runs every strategy in every scenario and prints the report; the
// deferred Close also runs when a strategy panics, before the panic goes on.
func bench(ctx context.Context, cfg Config, strategies []Strategy, scenarios []Scenario, asJSON bool) int {
	tb, err := New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbed:", err)
		return 1
	}
	defer tb.Close()
	rep := Report{Note: tb.note()}
	code := 0
rows:
	for _, s := range strategies {
		for _, sc := range scenarios {
			for _, format := range cfg.publish() {
				tb.pub = tb.images[format]
				res, err := tb.BenchScenario(ctx, s, sc)
				if ctx.Err() != nil {
					fmt.Fprintf(os.Stderr, "testbed: interrupted during %s, %s; cleaning up\n", s, sc)
					code = 130
					break rows
				}
				if err != nil {
					fmt.Fprintf(os.Stderr, "testbed: %s%s, %s: %v\n", s, tb.pub.label(), sc, err)
					code = 1
					continue
				}
				res.Published = format
				cfg.logf("%s", res)
				if res.Failed > 0 {
					code = 1
				}
				rep.Results = append(rep.Results, res)
			}
		}
	}
	if asJSON {
		if err := writeJSON(os.Stdout, rep); err != nil {
			return 1
		}
	} else {
		writeTable(os.Stdout, rep)
	}
	return code
}
