package main

import (
	"encoding/json"
	"fmt"
	"io"

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
		"the testbed then hashes every installed copy again. Host stores are on one shared %s tmpfs, because all hosts share one machine's disk here; on a farm each has its own.",
		tb.cfg.Hosts, tb.cfg.Bandwidth, tb.cfg.mtu(), tb.cfg.congestionControl(), tb.cfg.goMaxProcs(), formatSize(tb.fsSize))
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
	fmt.Fprintln(w, "| strategy | N | size | bandwidth | time to all verified | ratio to size/bandwidth | p50 per host | p99 per host "+
		"| mirror sent | lost at switch | machine CPU busy | apply max RSS p50/max | apply CPU p50/max | serve max RSS p50/max | serve CPU p50/max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Results {
		total, ratio := fmt.Sprintf("%.1f s", r.Seconds), fmt.Sprintf("%.2fx", r.Ratio)
		if r.Failed > 0 {
			total, ratio = fmt.Sprintf("%d of %d hosts failed", r.Failed, r.Hosts), "—"
		}
		applyRSS, applyCPU := r.ApplyUsage.columns()
		serveRSS, serveCPU := r.ServeUsage.columns()
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %.1f s | %.1f s | %.2fx image | %.1f%% | %.0f%% | %s | %s | %s | %s |\n",
			r.label(), r.Hosts, formatSize(r.Size), r.Bandwidth, total, ratio, r.P50, r.P99,
			float64(r.MirrorSent)/float64(r.Size), 100*r.SwitchLost, 100*r.CPUBusy, applyRSS, applyCPU, serveRSS, serveCPU)
	}
	fmt.Fprintln(w, "\nMemory and CPU per host process from wait4 (peak RSS; user+system time). Mirror sent: bytes the mirror host's link sent during the run (HTTP, first seed, tracker), over the image size. Lost at switch: bytes the hosts and the mirror sent into the switch that it did not deliver, during the run; each port's queue is a host's downlink, and a full one drops what several senders send it at once. Machine CPU busy: every core of the one machine that runs all the hosts, from the start until the last host finished; near 100% the row measured that machine rather than the network. For aria2c the apply columns are its one "+
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
