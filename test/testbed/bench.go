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
	Published string  `json:"published"`
	Hosts     int     `json:"hosts"`
	Size      int64   `json:"size_bytes"`
	Bandwidth string  `json:"bandwidth"`
	Seconds   float64 `json:"seconds_to_all_verified"`
	Bound     float64 `json:"bound_seconds"` // size / bandwidth
	Ratio     float64 `json:"ratio_to_bound"`
	P50       float64 `json:"p50_seconds"`
	P99       float64 `json:"p99_seconds"`
	Failed    int     `json:"failed_hosts"`
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

// Bench distributes the image to every host by strategy s: serves first
// (tree strategies), then every apply at once. An error means the run could
// not be made; hosts that failed are counted in the result.
func (tb *Testbed) Bench(ctx context.Context, s Strategy) (*Result, error) {
	if s == Aria2c {
		return tb.benchAria2(ctx)
	}
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
	if s.peered() {
		for i := range tb.cfg.Hosts {
			if err := r.StartServe(ctx, i); err != nil {
				return nil, err
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, tb.timeout(s))
	defer cancel()
	tb.cfg.logf("%s: %d hosts, %s at %s", s, tb.cfg.Hosts, formatSize(tb.cfg.Size), tb.cfg.Bandwidth)
	ports0 := switchPorts(ctx)
	r.Begin()
	for i := range tb.cfg.Hosts {
		if err := r.StartApply(i); err != nil {
			return nil, err
		}
	}
	res := tb.collect(ctx, r)
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

// collect waits for every host of r and summarises.
func (tb *Testbed) collect(ctx context.Context, r *Run) *Result {
	res := tb.newResult(r.Strategy)
	var wg sync.WaitGroup
	for i := range tb.cfg.Hosts {
		wg.Go(func() { res.PerHost[i] = r.WaitApply(ctx, i) })
	}
	wg.Wait()
	tb.summarise(res)
	return res
}

func (tb *Testbed) newResult(s Strategy) *Result {
	return &Result{Strategy: s, Hosts: tb.cfg.Hosts, Size: tb.cfg.Size,
		Bandwidth: tb.cfg.Bandwidth.String(), Bound: tb.cfg.bound().Seconds(),
		PerHost: make([]HostResult, tb.cfg.Hosts)}
}

// summarise computes the row from the hosts' results: the time to all
// verified is the last host's, and counts only when every host verified.
func (tb *Testbed) summarise(res *Result) {
	var times []float64
	for _, h := range res.PerHost {
		if !h.Verified {
			res.Failed++
			tb.cfg.logf("%s: host %s failed: %s", res.Strategy, h.Host, h.Error)
			continue
		}
		times = append(times, h.Seconds)
	}
	slices.Sort(times)
	if res.Failed == 0 && len(times) > 0 {
		res.Seconds = times[len(times)-1]
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
func (tb *Testbed) timeout(s Strategy) time.Duration {
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
	return time.Duration(3*expect*float64(bound)) + 4*tb.cfg.StallTimeout + time.Minute
}

func (r *Result) String() string {
	return fmt.Sprintf("%s: %.1fs (%.2fx), p50 %.1fs, p99 %.1fs, %d failed, mirror sent %.2fx the image",
		r.label(), r.Seconds, r.Ratio, r.P50, r.P99, r.Failed, float64(r.MirrorSent)/float64(r.Size))
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
