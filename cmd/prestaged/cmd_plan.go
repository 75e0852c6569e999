package main

import (
	"fmt"
	"io"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/report"
	"github.com/spf13/cobra"
)

// planJSON is the stable --json object of `plan`.
type planJSON struct {
	Spec    string       `json:"spec"`
	Plan    *engine.Plan `json:"plan"`
	Changes bool         `json:"changes"`
	Summary string       `json:"summary"`
}

func newPlanCmd() *cobra.Command {
	var detailed bool
	c := newPlanVerb("plan", "Show what apply would do to each image, and why", func(c *cobra.Command, pl planned) error {
		p := pl.plan
		var err error
		if pl.asJSON {
			err = writeJSON(c.OutOrStdout(), planJSON{Spec: pl.path, Plan: p, Changes: p.Changes(), Summary: p.Summary()})
		} else {
			renderPlan(c.OutOrStdout(), c.ErrOrStderr(), p)
		}
		if err != nil {
			return err
		}
		return planExit(p, detailed)
	})
	c.Long = `Show what apply would do to each image (ok, fetch, replace, remove), with a
reason and the sources it would use, without changing anything.

With --detailed-exitcodes, as Terraform's plan: 0 converged, 2 changes pending,
1 error (including an image list that was refused).`
	c.Flags().BoolVar(&detailed, "detailed-exitcodes", false, "exit 0 when converged, 2 when changes are pending, 1 on error")
	return c
}

func planExit(p *engine.Plan, detailed bool) error {
	switch {
	case len(p.Problems) > 0:
		return &exitError{code: 1}
	case detailed && p.Changes():
		return &exitError{code: 2}
	}
	return nil
}

func renderPlan(w, ew io.Writer, p *engine.Plan) {
	var installs []string
	for _, it := range p.Items {
		fmt.Fprintln(w, it.Describe())
		if it.Action != engine.ActionRemove {
			installs = append(installs, it.Install)
		}
	}
	for _, d := range report.MissingDirs(installs) {
		fmt.Fprintln(w, "will create directory", d)
	}
	renderProblems(ew, p)
	fmt.Fprintln(w, p.Summary())
}
