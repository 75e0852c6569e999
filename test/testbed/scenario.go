package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scenario is how a rollout departs from the kindest case, in which every
// host starts at once on equal links and none dies.
type Scenario struct {
	// Spread: each host's apply starts at a uniform random time within it
	// (serve runs on every host from before the first start).
	Spread time.Duration
	// Slow hosts have both directions of their link at a quarter of the
	// bandwidth; Kill hosts have serve and apply killed (SIGKILL) a third
	// of the bound after the last start, and stay dead.
	Slow, Kill int
}

// Together is the kindest case: every host at once, equal links, none dies.
var Together = Scenario{}

// String is the scenario as -scenarios takes it.
func (s Scenario) String() string {
	var parts []string
	if s.Spread > 0 {
		parts = append(parts, "spread="+s.Spread.String())
	}
	if s.Slow > 0 {
		parts = append(parts, "slow="+strconv.Itoa(s.Slow))
	}
	if s.Kill > 0 {
		parts = append(parts, "kill="+strconv.Itoa(s.Kill))
	}
	if len(parts) == 0 {
		return "together"
	}
	return strings.Join(parts, "+")
}

// parseScenarios reads a comma list of scenarios, each "together" or
// spread=DURATION, slow=K and kill=K joined by "+".
func parseScenarios(list string) ([]Scenario, error) {
	var out []Scenario
	for _, item := range strings.Split(list, ",") {
		var sc Scenario
		for _, part := range strings.Split(strings.TrimSpace(item), "+") {
			if err := sc.set(part); err != nil {
				return nil, fmt.Errorf("-scenarios: %q: %w", item, err)
			}
		}
		out = append(out, sc)
	}
	return slices.Compact(out), nil
}

func (s *Scenario) set(part string) error {
	key, val, _ := strings.Cut(part, "=")
	var err error
	switch key {
	case "together", "":
		if val != "" {
			err = fmt.Errorf("together takes no value")
		}
	case "spread":
		s.Spread, err = time.ParseDuration(val)
		if err == nil && s.Spread < 0 {
			err = fmt.Errorf("negative spread")
		}
	case "slow", "kill":
		var k int
		if k, err = strconv.Atoi(val); err == nil && k < 0 {
			err = fmt.Errorf("negative count")
		}
		if key == "slow" {
			s.Slow = k
		} else {
			s.Kill = k
		}
	default:
		err = fmt.Errorf("unknown part %q (want together, spread=DURATION, slow=K, kill=K)", part)
	}
	return err
}

// check refuses a scenario that needs more hosts than the testbed has:
// the root (host 0) is never slowed or killed, so that every row measures
// the same tree shape and the mirror has one first reader.
func (s Scenario) check(hosts int) error {
	if s.Slow+s.Kill > hosts-1 {
		return fmt.Errorf("scenario %s: %d slow and %d killed hosts need more than %d hosts (the root is neither)", s, s.Slow, s.Kill, hosts)
	}
	return nil
}

// plan is one scenario laid over the hosts: when each starts, which are
// slow, which die.
type plan struct {
	start      []time.Duration // each host's apply, after the run's start
	slow, kill []int           // host indices, ascending, disjoint, never 0
	last       time.Duration   // the last start
}

// newPlan draws the plan from seed: the same seed, hosts and scenario
// give the same plan.
func newPlan(sc Scenario, hosts int, seed int64) plan {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7e57bed))
	p := plan{start: make([]time.Duration, hosts)}
	if sc.Spread > 0 {
		for i := range p.start {
			p.start[i] = time.Duration(rng.Int64N(int64(sc.Spread)))
			p.last = max(p.last, p.start[i])
		}
	}
	perm := rng.Perm(hosts - 1)
	for k, j := range perm[:min(len(perm), sc.Slow+sc.Kill)] {
		if k < sc.Slow {
			p.slow = append(p.slow, j+1)
		} else {
			p.kill = append(p.kill, j+1)
		}
	}
	slices.Sort(p.slow)
	slices.Sort(p.kill)
	return p
}

// order is the hosts by start time, ties by index.
func (p plan) order() []int {
	idx := make([]int, len(p.start))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return int(p.start[a] - p.start[b]) })
	return idx
}

// slowLinks sets the slow hosts' links to a quarter of the bandwidth; the
// returned func restores them.
func (tb *Testbed) slowLinks(ctx context.Context, p plan) (restore func(), err error) {
	restore = func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, i := range p.slow {
			_ = tb.net.setRate(rctx, i, tb.net.rate)
		}
	}
	for _, i := range p.slow {
		if err := tb.net.setRate(ctx, i, tb.net.rate/4); err != nil {
			restore()
			return nil, err
		}
	}
	return restore, nil
}

// linkRate is the rate of host i's link as tc has it, in bits per second,
// the lower of its two directions; 0 if it cannot be read.
func linkRate(ctx context.Context, i int) int64 {
	lo := int64(0)
	for _, end := range [][2]string{{hostNS(i), "eth0"}, {switchNS, hostPort(i)}} {
		out, err := exec.CommandContext(ctx, "tc", "-n", end[0], "-j", "qdisc", "show", "dev", end[1]).Output()
		if err != nil {
			return 0
		}
		var qs []struct {
			Kind    string `json:"kind"`
			Options struct {
				Rate int64 `json:"rate"` // bytes per second
			} `json:"options"`
		}
		if json.Unmarshal(out, &qs) != nil || len(qs) == 0 || qs[0].Kind != "tbf" {
			return 0
		}
		if r := qs[0].Options.Rate * 8; lo == 0 || r < lo {
			lo = r
		}
	}
	return lo
}

// startApplies starts every host's apply at its planned time after r's
// start, in order, and returns once the last has started.
func (r *Run) startApplies(ctx context.Context, p plan) error {
	r.Begin()
	for _, i := range p.order() {
		if d := time.Until(r.t0.Add(p.start[i])); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := r.StartApply(i); err != nil {
			return err
		}
	}
	return nil
}

// killLater kills the plan's hosts a third of the bound after the last
// start; the returned channel closes once they are dead (or ctx ended).
func (r *Run) killLater(ctx context.Context, p plan, bound time.Duration) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if len(p.kill) == 0 {
			return
		}
		select {
		case <-time.After(time.Until(r.t0.Add(p.last + bound/3))):
		case <-ctx.Done():
			return
		}
		for _, i := range p.kill {
			r.Kill(i)
		}
		r.tb.cfg.logf("killed %s", hostList(p.kill))
	}()
	return done
}

// hostList names hosts for the log and the table.
func hostList(hosts []int) string {
	if len(hosts) == 0 {
		return "none"
	}
	names := make([]string, len(hosts))
	for k, i := range hosts {
		names[k] = fmt.Sprintf("h%d", i)
	}
	return strings.Join(names, " ")
}
