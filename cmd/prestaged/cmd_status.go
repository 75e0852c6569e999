package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/spec"
	"github.com/spf13/cobra"
)

// statusJSON is the stable --json object of `status`.
type statusJSON struct {
	Spec     string          `json:"spec"`
	Store    string          `json:"store"`
	Images   []engine.Item   `json:"images"`
	Warnings []string        `json:"warnings,omitempty"`
	Problems engine.Problems `json:"problems,omitempty"`
}

func newStatusCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status [SPEC]",
		Short: "Show what this host holds: each image, its state and staged bytes",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			path := specArg(args)
			s, p, err := planSpec(c, path)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.OutOrStdout(), statusJSON{Spec: path, Store: s.Store, Images: p.Items, Warnings: p.Warnings, Problems: p.Problems})
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "IMAGE\tSTATE\tSIZE\tSTAGED\tDIGEST\tINSTALL")
			for _, it := range p.Items {
				state := map[engine.Action]string{engine.ActionOK: "installed", engine.ActionFetch: "missing",
					engine.ActionReplace: "outdated", engine.ActionRemove: "to remove"}[it.Action]
				if it.Action == engine.ActionOK && it.Code == engine.ReasonUntrustedKept {
					state = "untrusted"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.Image, state, spec.FormatBytes(it.Size),
					spec.FormatBytes(it.Staged), it.Digest.Short(), it.Install)
			}
			tw.Flush()
			for _, w := range p.Warnings {
				fmt.Fprintln(c.ErrOrStderr(), "warning:", w)
			}
			for _, pr := range p.Problems {
				fmt.Fprintln(c.ErrOrStderr(), "error:", pr)
			}
			return nil
		},
	}
	addJSONFlag(c, &asJSON)
	return c
}
