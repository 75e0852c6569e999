package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// Result is one row of the table.
type Result struct {
	Strategy Strategy `json:"strategy"`
	// Published is what the mirror offered: raw, or zst installed as raw;
	// Size and the bound are the raw image's either way.
	Published string `json:"published"`
	Hosts     int    `json:"hosts"`
	Size      int64  `json:"size_bytes"`
	Bandwidth string `json:"bandwidth"`
	// Scenario is how the run departed from every host starting at once
	// on equal links (Scenario.String); ScenarioSeed drew its hosts and
	// start times.
	Scenario     string `json:"scenario"`
	ScenarioSeed int64  `json:"scenario_seed"`
	// LastStart is when the last host's apply started, after the first.
	LastStart float64 `json:"last_start_seconds"`
	// Seconds runs from the last start until every live host but the slow
	// ones verified: when every host starts at once, none slow or killed,
	// the time to all verified. Ratio is it over Bound.
	Seconds float64 `json:"seconds_to_all_verified"`
	Bound   float64 `json:"bound_seconds"` // size / bandwidth
	Ratio   float64 `json:"ratio_to_bound"`
	// P50 and P99 are of the live fast hosts' own times, each from its own
	// start until its apply exited.
	P50    float64 `json:"p50_seconds"`
	P99    float64 `json:"p99_seconds"`
	Failed int     `json:"failed_hosts"` // live hosts not verified
	// SlowHosts had links at a quarter of the bandwidth; SlowSeconds are
	// their own times, in the same order (0: not verified). KilledHosts
	// died a third of the bound after the last start.
	SlowHosts   []string  `json:"slow_hosts,omitempty"`
	SlowSeconds []float64 `json:"slow_hosts_seconds,omitempty"`
	KilledHosts []string  `json:"killed_hosts,omitempty"`
	// MirrorSent is what the mirror host sent during the run (HTTP, the
	// first seed, the tracker), headers included: the origin's load.
	MirrorSent int64 `json:"mirror_sent_bytes"`
	// SwitchLost is the share of the bytes the hosts and the mirror sent
	// into the switch that it did not deliver during the run: what the tbf
	// queue of each port, that host's downlink, dropped. A full downlink
	// drops what several senders send it at once (incast), and their
	// uplinks carried those bytes for nothing.
	SwitchLost float64 `json:"switch_lost"`
	// CPUBusy is the fraction of the machine's CPU time (every core) spent
	// busy from the start until the last host finished. Every host runs on
	// the same cores: near 1 the row measured the machine, not the network.
	CPUBusy float64 `json:"machine_cpu_busy"`
	// ApplyUsage and ServeUsage summarise the hosts' Apply and Serve.
	ApplyUsage *UsageSummary `json:"apply_usage,omitempty"`
	ServeUsage *UsageSummary `json:"serve_usage,omitempty"`
	PerHost    []HostResult  `json:"per_host"`
}

// UsageSummary is the median and the largest of one kind of process's
// Usage over the hosts.
type UsageSummary struct {
	RSSP50    int64   `json:"max_rss_p50_bytes"`
	RSSMax    int64   `json:"max_rss_max_bytes"`
	CPUP50    float64 `json:"cpu_p50_seconds"`
	CPUMax    float64 `json:"cpu_max_seconds"`
	Processes int     `json:"processes"`
}

// summariseUsage summarises what pick returns for each host; nil when no
// host has it.
func summariseUsage(hosts []HostResult, pick func(HostResult) *Usage) *UsageSummary {
	var rss, cpu []float64
	for _, h := range hosts {
		if u := pick(h); u != nil {
			rss, cpu = append(rss, float64(u.MaxRSS)), append(cpu, u.CPUSeconds)
		}
	}
	if len(rss) == 0 {
		return nil
	}
	slices.Sort(rss)
	slices.Sort(cpu)
	return &UsageSummary{RSSP50: int64(percentile(rss, 50)), RSSMax: int64(rss[len(rss)-1]),
		CPUP50: percentile(cpu, 50), CPUMax: cpu[len(cpu)-1], Processes: len(rss)}
}

// Bench distributes the image to every host by strategy s, every host
// starting at once.
func (tb *Testbed) Bench(ctx context.Context, s Strategy) (*Result, error) {
	return tb.BenchScenario(ctx, s, Together)
}

// BenchScenario distributes the image to every host by strategy s in
// scenario sc: slow links set, serves first (peered strategies), then each
// apply at its planned time, the doomed hosts killed on time. An error
// means the run could not be made; hosts that failed are counted in the
// result.
func (tb *Testbed) BenchScenario(ctx context.Context, s Strategy, sc Scenario) (*Result, error) {
	tb.scenario = sc
	if s == Aria2c {
		if sc != Together {
			return nil, fmt.Errorf("aria2c runs every host at once on equal links only, not %s", sc)
		}
		return tb.benchAria2(ctx)
	}
	if err := sc.check(tb.cfg.Hosts); err != nil {
		return nil, err
	}
	p := newPlan(sc, tb.cfg.Hosts, tb.cfg.ScenarioSeed)
	if s.swarm() {
		sw, err := tb.startSwarm(ctx, s.btSeed())
		if err != nil {
			return nil, err
		}
		defer sw.stop()
	}
	r, err := tb.Prepare(s)
	if err != nil {
		return nil, err
	}
	defer r.Stop()
	restore, err := tb.slowLinks(ctx, p)
	if err != nil {
		return nil, err
	}
	defer restore()
	if s.peered() {
		for i := range tb.cfg.Hosts {
			if err := r.StartServe(ctx, i); err != nil {
				return nil, err
			}
		}
	}
	return tb.runPlan(ctx, r, sc, p)
}

// runPlan starts the applies of r as p says, kills the doomed hosts, waits
// for the rest and measures the row.
func (tb *Testbed) runPlan(ctx context.Context, r *Run, sc Scenario, p plan) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, tb.timeout(r.Strategy, sc))
	defer cancel()
	tb.cfg.logf("%s, %s (seed %d; slow %s; killed %s): %d hosts, %s at %s", r.Strategy, sc, tb.cfg.ScenarioSeed,
		hostList(p.slow), hostList(p.kill), tb.cfg.Hosts, formatSize(tb.cfg.Size), tb.cfg.Bandwidth)
	links := make([]int64, tb.cfg.Hosts)
	for i := range links {
		links[i] = linkRate(ctx, i)
	}
	ports0 := switchPorts(ctx)
	if err := r.startApplies(ctx, p); err != nil {
		return nil, err
	}
	killed := r.killLater(ctx, p, tb.cfg.bound())
	res := tb.collect(ctx, r, sc, p, links)
	<-killed
	ports := switchPorts(ctx)
	res.MirrorSent, res.SwitchLost = ports.mirror-ports0.mirror, ports.lostSince(ports0)
	tb.measureCPU(res, r.t0)
	// A serve's usage is known once it has exited.
	r.Stop()
	for i := range res.PerHost {
		res.PerHost[i].Serve = r.serves[i].resources()
	}
	res.ServeUsage = summariseUsage(res.PerHost, func(h HostResult) *Usage { return h.Serve })
	return res, nil
}

// collect waits for every host of r and summarises; links are the hosts'
// link rates as tc had them at the start.
func (tb *Testbed) collect(ctx context.Context, r *Run, sc Scenario, p plan, links []int64) *Result {
	res := tb.newResult(r.Strategy)
	res.Scenario, res.LastStart = sc.String(), p.last.Seconds()
	var wg sync.WaitGroup
	for i := range tb.cfg.Hosts {
		wg.Go(func() { res.PerHost[i] = r.WaitApply(ctx, i) })
	}
	wg.Wait()
	for i := range res.PerHost {
		h := &res.PerHost[i]
		h.StartSeconds, h.LinkBits = p.start[i].Seconds(), links[i]
		h.Slow, h.Killed = slices.Contains(p.slow, i), slices.Contains(p.kill, i)
	}
	tb.summarise(res)
	return res
}

func (tb *Testbed) newResult(s Strategy) *Result {
	return &Result{Strategy: s, Hosts: tb.cfg.Hosts, Size: tb.cfg.Size, Scenario: Together.String(),
		ScenarioSeed: tb.cfg.ScenarioSeed, Bandwidth: tb.cfg.Bandwidth.String(), Bound: tb.cfg.bound().Seconds(),
		PerHost: make([]HostResult, tb.cfg.Hosts)}
}

// summarise computes the row from the hosts' results: the killed hosts
// count for nothing, the slow ones apart, and the time counts only when
// every live host verified.
func (tb *Testbed) summarise(res *Result) {
	var times []float64 // the live fast hosts' own times
	last := 0.0         // when the last of them finished
	for i, h := range res.PerHost {
		name := fmt.Sprintf("h%d", i) // as in the logs' directories
		switch {
		case h.Killed:
			res.KilledHosts = append(res.KilledHosts, name)
			continue
		case !h.Verified:
			res.Failed++
			tb.cfg.logf("%s, %s: host %s failed: %s", res.Strategy, res.Scenario, h.Host, h.Error)
		case !h.Slow:
			times, last = append(times, h.Seconds-h.StartSeconds), max(last, h.Seconds)
		}
		if h.Slow {
			own := 0.0
			if h.Verified {
				own = h.Seconds - h.StartSeconds
			}
			res.SlowHosts, res.SlowSeconds = append(res.SlowHosts, name), append(res.SlowSeconds, own)
		}
	}
	slices.Sort(times)
	if res.Failed == 0 && len(times) > 0 {
		res.Seconds = last - res.LastStart
		res.Ratio = res.Seconds / res.Bound
	}
	res.P50, res.P99 = percentile(times, 50), percentile(times, 99)
	res.ApplyUsage = summariseUsage(res.PerHost, func(h HostResult) *Usage { return h.Apply })
}

// measureCPU records how busy the machine was from t0 until the last
// host of res finished.
func (tb *Testbed) measureCPU(res *Result, t0 time.Time) {
	last := 0.0
	for _, h := range res.PerHost {
		last = max(last, h.Seconds)
	}
	res.CPUBusy = tb.cpu.busy(t0, t0.Add(time.Duration(last*float64(time.Second))))
}

// percentile by nearest rank of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}

// timeout bounds one run generously: three times what the strategy should
// take, plus room for stalls and start-up. It only stops a hung run.
func (tb *Testbed) timeout(s Strategy, sc Scenario) time.Duration {
	n, bound := float64(tb.cfg.Hosts), tb.cfg.bound()
	var expect float64
	switch s {
	case Mirror:
		expect = n
	case Aria2c, Torrent:
		expect = 4
	case SAFTree:
		expect = 1 + float64(s.fanout())*math.Ceil(math.Log2(n+1))
	default:
		expect = 2 + n/8
	}
	if sc.Slow > 0 {
		expect *= 4 // a slow host's subtree may go at its pace
	}
	stalls := time.Duration(4+2*sc.Kill) * tb.cfg.StallTimeout
	return time.Duration(3*expect*float64(bound)) + sc.Spread + stalls + time.Minute
}

func (r *Result) String() string {
	return fmt.Sprintf("%s, %s: %.1fs (%.2fx), p50 %.1fs, p99 %.1fs, %d failed, slow %s, killed %v, mirror sent %.2fx the image",
		r.label(), r.Scenario, r.Seconds, r.Ratio, r.P50, r.P99, r.Failed, r.slowColumn(), r.KilledHosts, float64(r.MirrorSent)/float64(r.Size))
}

// portBytes are bytes the switch's ports took in from their hosts (and the
// mirror) and sent out to them so far; mirror is what the mirror's port took
// in, all the mirror host sent (HTTP, the first seed, the tracker).
type portBytes struct{ in, out, mirror int64 }

// switchPorts sums the byte counters of the switch's ports; zero if they
// cannot be read.
func switchPorts(ctx context.Context) portBytes {
	out, err := exec.CommandContext(ctx, "ip", "-n", switchNS, "-j", "-s", "link", "show").Output()
	if err != nil {
		return portBytes{}
	}
	return parsePorts(out)
}

// parsePorts sums what `ip -j -s link show` reports for the ports (v-*),
// not the bridge itself.
func parsePorts(js []byte) portBytes {
	var links []struct {
		Name  string `json:"ifname"`
		Stats struct {
			RX struct {
				Bytes int64 `json:"bytes"`
			} `json:"rx"`
			TX struct {
				Bytes int64 `json:"bytes"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	var c portBytes
	if json.Unmarshal(js, &links) != nil {
		return c
	}
	for _, l := range links {
		if strings.HasPrefix(l.Name, "v-") {
			c.in += l.Stats.RX.Bytes
			c.out += l.Stats.TX.Bytes
		}
		if l.Name == mirrorPort {
			c.mirror = l.Stats.RX.Bytes
		}
	}
	return c
}

// lostSince is the share of the bytes the ports took in since c0 that they
// did not send on: what the ports' queues dropped.
func (c portBytes) lostSince(c0 portBytes) float64 {
	in, out := c.in-c0.in, c.out-c0.out
	if in <= 0 || out >= in {
		return 0
	}
	return float64(in-out) / float64(in)
}
