package main

import (
	"fmt"
	"strings"

	"github.com/prestaged/prestaged/demo"
	"github.com/prestaged/prestaged/spec"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	var (
		o          demo.Options
		size, bw   string
		strategies string
		asJSON     bool
	)
	c := newVerb("demo", "Distribute a generated image to simulated hosts three ways and compare", cobra.NoArgs, func(c *cobra.Command, _ []string) error {
		var err error
		if o.Size, err = spec.ParseSize(size); err != nil {
			return err
		}
		if o.Bandwidth, err = spec.ParseRate(bw); err != nil || o.Bandwidth <= 0 {
			return fmt.Errorf("--bandwidth %q: want a rate such as 100Mbit (%v)", bw, err)
		}
		o.Strategies = strings.Split(strategies, ",")
		return runDemoCmd(c, o, asJSON)
	})
	c.Long = `Run, in this process on loopback, an HTTP mirror and --hosts hosts, each with
its own store and peer server and every link (the mirror's too) capped at
--bandwidth. A generated image is distributed with each strategy: mirror only,
store-and-forward binary tree (the 2010 mechanism), pipelined binary tree.
Prints, per strategy, the time until every host holds a verified copy, its
ratio to the lower bound size/bandwidth, and p50/p99 per-host completion.
Everything it made is removed at the end.`
	f := c.Flags()
	f.IntVar(&o.Hosts, "hosts", 15, "number of simulated hosts")
	f.StringVar(&size, "size", "32MiB", "image size (KiB, MiB, GiB)")
	f.StringVar(&bw, "bandwidth", "100Mbit", "every link's capacity")
	f.IntVar(&o.Fanout, "fanout", 2, "children per host in the tree")
	f.StringVar(&strategies, "strategies", "mirror,saf-tree,tree", "comma-separated: mirror, saf-tree, tree, chain")
	addJSONFlag(c, &asJSON)
	return c
}

func runDemoCmd(c *cobra.Command, o demo.Options, asJSON bool) error {
	o.Progress, o.Live = c.ErrOrStderr(), isTerminal(c.ErrOrStderr())
	rep, err := demo.Run(c.Context(), o)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.OutOrStdout(), rep)
	}
	rep.Render(c.OutOrStdout())
	return nil
}
