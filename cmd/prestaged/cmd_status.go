package main

import (
	"fmt"
	"io"
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
	return newPlanVerb("status", "Show what this host holds: each image, its state and staged bytes", func(c *cobra.Command, pl planned) error {
		p := pl.plan
		if pl.asJSON {
			return writeJSON(c.OutOrStdout(), statusJSON{Spec: pl.path, Store: pl.spec.Store, Images: p.Items, Warnings: p.Warnings, Problems: p.Problems})
		}
		renderStatus(c.OutOrStdout(), p)
		renderProblems(c.ErrOrStderr(), p)
		return nil
	})
}

// renderStatus is the table of images: state, sizes, digest, install path.
func renderStatus(w io.Writer, p *engine.Plan) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tSTATE\tSIZE\tON DISK\tSTAGED\tDIGEST\tINSTALL")
	for _, it := range p.Items {
		state := map[engine.Action]string{engine.ActionOK: "installed", engine.ActionFetch: "missing",
			engine.ActionReplace: "outdated", engine.ActionRemove: "to remove"}[it.Action]
		if it.Action == engine.ActionOK && it.Code == engine.ReasonUntrustedKept {
			state = "untrusted"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Image, state, spec.FormatBytes(max(it.Size, it.InstallSize)),
			spec.FormatBytes(it.InstallAllocated), spec.FormatBytes(it.Staged), it.Digest.Short(), it.Install)
	}
	tw.Flush()
}
