package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/prestaged/prestaged/spec"
	"github.com/spf13/cobra"
)

func init() { extraCmds = append(extraCmds, newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var (
		o          demoOptions
		size, bw   string
		strategies string
		asJSON     bool
	)
	c := &cobra.Command{
		Use:   "demo",
		Short: "Distribute a generated image to simulated hosts three ways and compare",
		Long: `Run, in this process on loopback, an HTTP mirror and --hosts hosts, each with
its own store and peer server and every link (the mirror's too) capped at
--bandwidth. A generated image is distributed with each strategy: mirror only,
store-and-forward binary tree (the 2010 mechanism), pipelined binary tree.
Prints, per strategy, the time until every host holds a verified copy, its
ratio to the lower bound size/bandwidth, and p50/p99 per-host completion.
Everything it made is removed at the end.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var err error
			if o.Size, err = spec.ParseSize(size); err != nil {
				return err
			}
			if o.Bandwidth, err = spec.ParseRate(bw); err != nil || o.Bandwidth <= 0 {
				return fmt.Errorf("--bandwidth %q: want a rate such as 100Mbit (%v)", bw, err)
			}
			o.Strategies = strings.Split(strategies, ",")
			return runDemoCmd(c, o, asJSON)
		},
	}
	f := c.Flags()
	f.IntVar(&o.Hosts, "hosts", 15, "number of simulated hosts")
	f.StringVar(&size, "size", "32MiB", "image size (KiB, MiB, GiB)")
	f.StringVar(&bw, "bandwidth", "100Mbit", "every link's capacity")
	f.IntVar(&o.Fanout, "fanout", 2, "children per host in the tree")
	f.StringVar(&strategies, "strategies", "mirror,saf-tree,tree", "comma-separated: mirror, saf-tree, tree, chain")
	addJSONFlag(c, &asJSON)
	return c
}

func runDemoCmd(c *cobra.Command, o demoOptions, asJSON bool) error {
	for _, s := range o.Strategies {
		if _, ok := demoStrategies[s]; !ok {
			return fmt.Errorf("unknown strategy %q (want mirror, saf-tree, tree or chain)", s)
		}
	}
	if o.Hosts < 2 || o.Fanout < 1 || o.Size <= 0 {
		return fmt.Errorf("need --hosts >= 2, --fanout >= 1 and a positive --size")
	}
	root, err := os.MkdirTemp(o.Dir, "prestaged-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	mirrorDir := filepath.Join(root, "mirror")
	if err := os.MkdirAll(mirrorDir, 0o755); err != nil {
		return err
	}
	d, err := makeImage(filepath.Join(mirrorDir, "demo.img"), o.Size)
	if err != nil {
		return err
	}
	out := c.ErrOrStderr()
	bound := float64(o.Size) / float64(o.Bandwidth.BytesPerSecond())
	fmt.Fprintf(out, "demo: %d hosts, %s image, every link capped at %s: lower bound size/bandwidth = %.1f s\n",
		o.Hosts, spec.FormatBytes(o.Size), o.Bandwidth, bound)
	tick := newDemoTicker(out, o, d)
	var rows []demoRow
	for _, s := range o.Strategies {
		row, err := runStrategy(c.Context(), o, s, root, mirrorDir, d, tick)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	if asJSON {
		return writeJSON(c.OutOrStdout(), map[string]any{"hosts": o.Hosts, "size": o.Size, "bandwidth": o.Bandwidth.String(),
			"bound_seconds": bound, "strategies": rows})
	}
	renderDemo(c.OutOrStdout(), rows)
	return nil
}

func renderDemo(w io.Writer, rows []demoRow) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STRATEGY\tTIME\tRATIO TO BOUND\tP50\tP99\tVERIFIED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.1f s\t%.2fx\t%.1f s\t%.1f s\t%d/%d\n", demoStrategies[r.Strategy], r.Seconds, r.Ratio, r.P50, r.P99, r.Verified, r.Hosts)
	}
	tw.Flush()
}
