// Package demo distributes a generated image to simulated hosts in this
// process, on loopback, each with its own store, peer server and capped
// links, and compares strategies: what `prestaged demo` shows.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/prestaged/prestaged/spec"
)

// Report is a whole demo run: a table, and the object of --json.
type Report struct {
	Hosts        int     `json:"hosts"`
	Size         int64   `json:"size"`
	Bandwidth    string  `json:"bandwidth"`
	BoundSeconds float64 `json:"bound_seconds"`
	Strategies   []Row   `json:"strategies"`
}

// Run runs every strategy of o, one after the other, on fresh hosts, and
// removes everything it made.
func Run(ctx context.Context, o Options) (*Report, error) {
	for _, s := range o.Strategies {
		if _, ok := Strategies[s]; !ok {
			return nil, fmt.Errorf("unknown strategy %q (want mirror, saf-tree, tree or chain)", s)
		}
	}
	if o.Hosts < 2 || o.Fanout < 1 || o.Size <= 0 {
		return nil, fmt.Errorf("need --hosts >= 2, --fanout >= 1 and a positive --size")
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	root, err := os.MkdirTemp(o.Dir, "prestaged-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	mirrorDir := filepath.Join(root, "mirror")
	if err := os.MkdirAll(mirrorDir, 0o755); err != nil {
		return nil, err
	}
	d, err := makeImage(filepath.Join(mirrorDir, "demo.img"), o.Size)
	if err != nil {
		return nil, err
	}
	bound := float64(o.Size) / float64(o.Bandwidth.BytesPerSecond())
	fmt.Fprintf(o.Progress, "demo: %d hosts, %s image, every link capped at %s: lower bound size/bandwidth = %.1f s\n",
		o.Hosts, spec.FormatBytes(o.Size), o.Bandwidth, bound)
	tick := newTicker(o.Progress, o, d)
	rep := &Report{Hosts: o.Hosts, Size: o.Size, Bandwidth: o.Bandwidth.String(), BoundSeconds: bound}
	for _, s := range o.Strategies {
		row, err := runStrategy(ctx, o, s, root, mirrorDir, d, tick)
		if err != nil {
			return nil, err
		}
		rep.Strategies = append(rep.Strategies, row)
	}
	return rep, nil
}

// Render writes the report as a table.
func (r *Report) Render(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STRATEGY\tTIME\tRATIO TO BOUND\tP50\tP99\tVERIFIED")
	for _, row := range r.Strategies {
		fmt.Fprintf(tw, "%s\t%.1f s\t%.2fx\t%.1f s\t%.1f s\t%d/%d\n", Strategies[row.Strategy], row.Seconds, row.Ratio, row.P50, row.P99, row.Verified, row.Hosts)
	}
	tw.Flush()
}
