package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/prestaged/prestaged/spec"
)

// Report is the whole output: what the testbed was and one row per strategy.
type Report struct {
	Note    string    `json:"note"`
	Results []*Result `json:"results"`
}

func (tb *Testbed) note() string {
	return fmt.Sprintf("%d hosts in network namespaces on one Linux bridge, every link (the mirror's too) capped at %s by tc tbf both ways, MTU %d, TCP %s; "+
		"mirror: nginx; GOMAXPROCS=%s in every host process. A host's time runs from the start until its apply exited 0 (apply verifies before it installs); "+
		"the testbed then hashes every installed copy again. Host stores are on one shared %s tmpfs, because all hosts share one machine's disk here; on a farm each has its own. "+
		"Scenario seed %d: it draws the start times, slow and killed hosts (never the root, h0).",
		tb.cfg.Hosts, tb.cfg.Bandwidth, tb.cfg.mtu(), tb.cfg.congestionControl(), tb.cfg.goMaxProcs(), formatSize(tb.fsSize), tb.cfg.ScenarioSeed)
}

func writeJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeTable prints the markdown table; a failed row says how many hosts
// failed instead of a time.
func writeTable(w io.Writer, rep Report) {
	fmt.Fprintf(w, "%s\n\n", rep.Note)
	fmt.Fprintln(w, "| strategy | scenario | seed | N | size | bandwidth | time from last start to live hosts verified | ratio to size/bandwidth | p50 per host | p99 per host "+
		"| slow hosts' own times | killed | mirror sent | lost at switch | machine CPU busy | apply max RSS p50/max | apply CPU p50/max | serve max RSS p50/max | serve CPU p50/max |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Results {
		total, ratio := fmt.Sprintf("%.1f s", r.Seconds), fmt.Sprintf("%.2fx", r.Ratio)
		if r.Failed > 0 {
			total, ratio = fmt.Sprintf("%d of %d live hosts failed", r.Failed, r.Hosts-len(r.KilledHosts)), "—"
		}
		applyRSS, applyCPU := r.ApplyUsage.columns()
		serveRSS, serveCPU := r.ServeUsage.columns()
		killed := strings.Join(r.KilledHosts, " ")
		if killed == "" {
			killed = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s | %s | %s | %.1f s | %.1f s | %s | %s | %.2fx image | %.1f%% | %.0f%% | %s | %s | %s | %s |\n",
			r.label(), r.Scenario, r.ScenarioSeed, r.Hosts, formatSize(r.Size), r.Bandwidth, total, ratio, r.P50, r.P99, r.slowColumn(), killed,
			float64(r.MirrorSent)/float64(r.Size), 100*r.SwitchLost, 100*r.CPUBusy, applyRSS, applyCPU, serveRSS, serveCPU)
	}
	fmt.Fprintln(w, "\nTime from last start: from the last host's start (the first's when all start together) until every live host but the slow ones verified; "+
		"the ratio is over size/bandwidth, and p50/p99 are those hosts' own times, each from its own start. Slow hosts' own times: from each slow host's start until it verified, "+
		"its link at a quarter of the bandwidth, with its ratio to the row's size/bandwidth (4.00x at best). Killed: hosts whose serve and apply were killed a third of size/bandwidth after the last start; they count for nothing. "+
		"Memory and CPU per host process from wait4 (peak RSS; user+system time). Mirror sent: bytes the mirror host's link sent during the run (HTTP, first seed, tracker), over the image size. Lost at switch: bytes the hosts and the mirror sent into the switch that it did not deliver, during the run; each port's queue is a host's downlink, and a full one drops what several senders send it at once. Machine CPU busy: every core of the one machine that runs all the hosts, from the start until the last host finished; near 100% the row measured that machine rather than the network. For aria2c the apply columns are its one "+
		"process, which downloads and then seeds until the last host is done; serve runs from before the start until every host is done.")
}

// columns renders u's memory and CPU cells, "—" when unknown.
func (u *UsageSummary) columns() (rss, cpu string) {
	if u == nil {
		return "—", "—"
	}
	return fmt.Sprintf("%.0f / %.0f MiB", float64(u.RSSP50)/(1<<20), float64(u.RSSMax)/(1<<20)),
		fmt.Sprintf("%.1f / %.1f s", u.CPUP50, u.CPUMax)
}

// label names the row: the strategy, and what was published when not raw.
func (r *Result) label() string {
	if r.Published == "" || r.Published == spec.FormatRaw {
		return string(r.Strategy)
	}
	return string(r.Strategy) + " (" + r.Published + " to raw)"
}

// slowColumn is the slow hosts with their own times, "—" for none.
func (r *Result) slowColumn() string {
	if len(r.SlowHosts) == 0 {
		return "—"
	}
	cells := make([]string, len(r.SlowHosts))
	for k, h := range r.SlowHosts {
		cells[k] = h + " failed"
		if r.SlowSeconds[k] > 0 {
			cells[k] = fmt.Sprintf("%s %.1f s (%.2fx)", h, r.SlowSeconds[k], r.SlowSeconds[k]/r.Bound)
		}
	}
	return strings.Join(cells, ", ")
}
