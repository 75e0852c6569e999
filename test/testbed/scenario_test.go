package main

import (
	"slices"
	"testing"
	"time"
)

func TestParseScenarios(t *testing.T) {
	got, err := parseScenarios("together, spread=120s,slow=2,kill=2,spread=1m+kill=1")
	want := []Scenario{Together, {Spread: 2 * time.Minute}, {Slow: 2}, {Kill: 2}, {Spread: time.Minute, Kill: 1}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("parseScenarios: %v, %v; want %v", got, err, want)
	}
	for i, sc := range want {
		if back, err := parseScenarios(sc.String()); err != nil || back[0] != sc {
			t.Errorf("scenario %d: %q reads back as %v (%v)", i, sc, back, err)
		}
	}
	for _, bad := range []string{"slow", "slow=-1", "spread=soon", "late=2", "together=1"} {
		if _, err := parseScenarios(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := (Scenario{Slow: 3, Kill: 3}).check(6); err == nil {
		t.Error("6 slow and killed hosts of 6 accepted: the root is neither")
	}
	if _, err := (flags{scenarios: "together", single: Scenario{Slow: 1}}).scenarioList(6, []Strategy{Tree}); err == nil {
		t.Error("-scenarios accepted with -slow-hosts")
	}
	if _, err := (flags{single: Scenario{Kill: 1}}).scenarioList(6, []Strategy{Tree, Aria2c}); err == nil {
		t.Error("aria2c accepted with a killed host")
	}
	if got, err := (flags{single: Scenario{Kill: 1}}).scenarioList(6, []Strategy{Tree}); err != nil || !slices.Equal(got, []Scenario{{Kill: 1}}) {
		t.Errorf("-kill-hosts 1: %v, %v", got, err)
	}
}

// TestPlan: the same seed draws the same plan; the root is never slowed or
// killed, slow and killed hosts are distinct, starts fall in the spread.
func TestPlan(t *testing.T) {
	sc := Scenario{Spread: 10 * time.Second, Slow: 2, Kill: 3}
	p := newPlan(sc, 8, 1)
	if q := newPlan(sc, 8, 1); !slices.Equal(p.start, q.start) || !slices.Equal(p.slow, q.slow) || !slices.Equal(p.kill, q.kill) {
		t.Errorf("the same seed drew %+v and %+v", p, q)
	}
	if q := newPlan(sc, 8, 2); slices.Equal(p.start, q.start) {
		t.Errorf("seeds 1 and 2 drew the same start times %v", p.start)
	}
	if len(p.slow) != 2 || len(p.kill) != 3 {
		t.Fatalf("slow %v, killed %v: want 2 and 3", p.slow, p.kill)
	}
	for _, i := range p.slow {
		if i == 0 || slices.Contains(p.kill, i) {
			t.Errorf("slow %v, killed %v: the root, or a host both", p.slow, p.kill)
		}
	}
	if slices.Contains(p.kill, 0) {
		t.Errorf("killed %v: the root", p.kill)
	}
	for i, d := range p.start {
		if d < 0 || d >= sc.Spread || d > p.last {
			t.Errorf("host %d starts at %v: outside the spread %v or after the last start %v", i, d, sc.Spread, p.last)
		}
	}
	if order := p.order(); !slices.IsSortedFunc(order, func(a, b int) int { return int(p.start[a] - p.start[b]) }) {
		t.Errorf("order %v is not by start time %v", order, p.start)
	}
	if together := newPlan(Together, 8, 1); together.last != 0 || len(together.slow)+len(together.kill) != 0 {
		t.Errorf("together: %+v", together)
	}
}

// TestSummariseScenario: killed hosts count for nothing, slow ones apart,
// and the row's time runs from the last start.
func TestSummariseScenario(t *testing.T) {
	tb := &Testbed{}
	res := &Result{Bound: 10, LastStart: 4, PerHost: []HostResult{
		{Host: hostAddr(0), Seconds: 12, Verified: true},
		{Host: hostAddr(1), Seconds: 18, StartSeconds: 4, Verified: true},
		{Host: hostAddr(2), Seconds: 50, StartSeconds: 2, Verified: true, Slow: true},
		{Host: hostAddr(3), Killed: true, Error: "apply exit -1"},
	}}
	tb.summarise(res)
	if res.Failed != 0 || res.Seconds != 14 || res.Ratio != 1.4 || res.P99 != 14 {
		t.Errorf("failed %d, seconds %v, ratio %v, p99 %v: want 0, 14, 1.4, 14", res.Failed, res.Seconds, res.Ratio, res.P99)
	}
	if !slices.Equal(res.SlowHosts, []string{"h2"}) || !slices.Equal(res.SlowSeconds, []float64{48}) || !slices.Equal(res.KilledHosts, []string{"h3"}) {
		t.Errorf("slow %v %v, killed %v", res.SlowHosts, res.SlowSeconds, res.KilledHosts)
	}
	if got, want := res.slowColumn(), "h2 48.0 s (4.80x)"; got != want {
		t.Errorf("slow column %q, want %q", got, want)
	}
}

// TestTestbedScenarios is the small case of each scenario for `make
// check`: with prestaged's default strategy, every live host installs the
// image's bytes; the slow hosts' links were at a quarter of the bandwidth
// and are restored after; the killed hosts died before they finished.
func TestTestbedScenarios(t *testing.T) {
	const size = 8 << 20
	ctx, tb := newTestbed(t, 6, size, "50Mbit", 5*time.Second)
	bw := int64(tb.cfg.Bandwidth)
	for _, sc := range []Scenario{{Spread: 5 * time.Second}, {Slow: 1}, {Kill: 1}} {
		res, err := tb.BenchScenario(ctx, Default, sc)
		if err != nil {
			t.Fatalf("%s: %v", sc, err)
		}
		t.Logf("%s", res)
		if res.Scenario != sc.String() || len(res.SlowHosts) != sc.Slow || len(res.KilledHosts) != sc.Kill {
			t.Errorf("%s: row says scenario %s, slow %v, killed %v", sc, res.Scenario, res.SlowHosts, res.KilledHosts)
		}
		p := newPlan(sc, tb.cfg.Hosts, tb.cfg.ScenarioSeed)
		for i, h := range res.PerHost {
			checkScenarioHost(t, sc, p, i, h, bw)
		}
		if sc.Spread > 0 && res.LastStart != p.last.Seconds() {
			t.Errorf("%s: last start %v, planned %v", sc, res.LastStart, p.last)
		}
		for _, i := range p.slow {
			if got := linkRate(ctx, i); got != bw {
				t.Errorf("%s: slow h%d's link is at %d bit/s after the run, want %d restored", sc, i, got, bw)
			}
		}
	}
}

// checkScenarioHost checks host i's result against the plan.
func checkScenarioHost(t *testing.T, sc Scenario, p plan, i int, h HostResult, bw int64) {
	t.Helper()
	slow, killed := slices.Contains(p.slow, i), slices.Contains(p.kill, i)
	if h.Slow != slow || h.Killed != killed || h.StartSeconds != p.start[i].Seconds() {
		t.Errorf("%s: host %s: slow %t, killed %t, start %v; planned %t, %t, %v", sc, h.Host, h.Slow, h.Killed, h.StartSeconds, slow, killed, p.start[i])
	}
	wantLink := bw
	if slow {
		wantLink = bw / 4
	}
	if h.LinkBits != wantLink {
		t.Errorf("%s: host %s's link at %d bit/s, want %d", sc, h.Host, h.LinkBits, wantLink)
	}
	switch {
	case killed && (h.Verified || h.ExitCode == 0):
		// A third of the bound after its start it cannot have the image.
		t.Errorf("%s: killed host %s finished: %+v", sc, h.Host, h)
	case !killed && !h.Verified:
		t.Errorf("%s: live host %s: %s", sc, h.Host, h.Error)
	}
}
