package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/internal/safe"
	"github.com/prestaged/prestaged/report"
	"github.com/spf13/cobra"
)

// applyJSON is the stable --json object of `apply` and `verify`.
type applyJSON struct {
	Spec    string           `json:"spec"`
	Plan    *engine.Plan     `json:"plan,omitempty"`
	Checked []engine.Checked `json:"checked,omitempty"`
	Result  *engine.Result   `json:"result"`
	Summary string           `json:"summary"`

	verify bool // the run was verify: damage found is not a success
}

type applyFlags struct {
	asJSON, detailed, noProgress bool
	stageOnly                    bool
	wait                         time.Duration
	metricsFile                  string
}

func newApplyCmd() *cobra.Command {
	c, f := newApplyVerb("apply", "Converge this host: fetch, verify and install every image of the spec", false)
	c.Long = `Converge this host to its spec: plan, check free space, then fetch, verify and
install images in parallel, remove images prestaged installed that left the
spec, and collect blobs no image needs.

Exit codes: 0 success, 1 failure. With --detailed-exitcodes (Puppet's):
0 nothing to do, 2 changes applied, 4 some images failed, 6 changes and
failures, 1 a fatal error (invalid spec, lock held, not enough space).`
	c.Flags().StringVar(&f.metricsFile, "metrics-file", "", "write Prometheus metrics of this run to PATH atomically (node_exporter textfile collector)")
	c.Flags().BoolVar(&f.stageOnly, "stage-only", false, "fetch and verify the images into the store; install, replace and remove nothing (what serve runs for a child)")
	return c
}

// newApplyVerb is apply, or verify if verify is set, with the flags both take.
func newApplyVerb(name, short string, verify bool) (*cobra.Command, *applyFlags) {
	f := new(applyFlags)
	c := newSpecVerb(name, short, func(c *cobra.Command, path string) error { return runApply(c, path, *f, verify) })
	addJSONFlag(c, &f.asJSON)
	addWaitFlag(c, &f.wait)
	c.Flags().BoolVar(&f.detailed, "detailed-exitcodes", false, "exit 0 nothing to do, 2 changed, 4 failures, 6 both, 1 fatal")
	c.Flags().BoolVar(&f.noProgress, "no-progress", false, "plain log lines even on a terminal")
	return c, f
}

// stopGrace is how long apply and verify may take to stop after SIGINT or
// SIGTERM before the process exits anyway: a call stuck where the context
// does not reach must not keep the store lock until systemd's SIGKILL.
const stopGrace = 5 * time.Second

// exitWhenStuck exits the process stopGrace after ctx ends (the signal)
// unless the returned stop is called first.
func exitWhenStuck(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	safe.Go(func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(stopGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			fmt.Fprintf(os.Stderr, "prestaged: still running %s after the signal; exiting (the store lock goes with the process)\n", stopGrace)
			os.Exit(1)
		}
	})
	return func() { close(done) }
}

// runApply is apply, or verify when verify is set. The metrics file is
// written however the run ends, so a fatal error replaces the last success.
func runApply(c *cobra.Command, path string, f applyFlags, verify bool) (err error) {
	defer exitWhenStuck(c.Context())()
	out, stage := applyJSON{Spec: path, verify: verify}, report.ReasonSpec
	if f.metricsFile != "" {
		defer func() {
			report.MetricsFile(c.ErrOrStderr(), f.metricsFile, out.Result, out.Plan, report.ReasonOf(stage, err, out.Result, out.Plan))
		}()
	}
	s, _, err := loadSpec(path, c.ErrOrStderr(), false) // diagnostics to stderr, also with --json
	if err != nil {
		return err
	}
	rep := report.New(c.ErrOrStderr(), !f.noProgress && !f.asJSON && isTerminal(c.ErrOrStderr()))
	stage = report.ReasonStore
	e, closeSources, err := newEngine(s, rep, slog.New(report.NewLineHandler(c.ErrOrStderr())))
	if err != nil {
		return err
	}
	defer closeSources() // the swarm, when a torrent source started one
	stage = report.ReasonLock
	unlock, err := e.Store.Lock(c.Context(), f.wait)
	if err != nil {
		if f.wait > 0 && errors.Is(err, store.ErrLocked) {
			err = fmt.Errorf("waited %s for the store lock: %w", f.wait, err)
		}
		return err
	}
	defer unlock()
	stage = report.ReasonNone
	if verify {
		var vr *engine.VerifyReport
		if vr, err = e.Verify(c.Context()); vr != nil {
			out.Checked, out.Result = vr.Checked, vr.Repair
		}
	} else if out.Plan, err = e.Plan(c.Context()); err == nil {
		if f.stageOnly {
			out.Plan.StageOnly()
		}
		out.Result, err = e.Apply(c.Context(), out.Plan)
	}
	rep.Close()
	if err != nil {
		return err
	}
	out.Summary = report.Summary(out.Result, out.Checked, verify)
	if f.asJSON {
		if err := writeJSON(c.OutOrStdout(), out); err != nil {
			return err
		}
	} else {
		renderResult(c, out)
	}
	return applyExit(out, f.detailed)
}

func renderResult(c *cobra.Command, out applyJSON) {
	if out.Plan != nil {
		renderProblems(c.ErrOrStderr(), out.Plan)
	}
	for _, ch := range out.Checked {
		line := fmt.Sprintf("verify %s: install ok=%t, blob %s", ch.Image, ch.InstallOK, ch.Blob)
		if ch.Repair != "" {
			line += "; repair: " + ch.Repair
		}
		fmt.Fprintln(c.OutOrStdout(), line)
	}
	// A failed image's error is on its event=end line already: once is enough.
	fmt.Fprintln(c.OutOrStdout(), out.Summary)
}

// applyExit maps a result to Puppet's detailed exit codes, or to 0/1. For
// verify, damage that was repaired is a change, damage that was not is a
// failure, and without --detailed-exitcodes any damage found exits 1.
func applyExit(out applyJSON, detailed bool) error {
	failed := out.Result.Failed > 0 || (out.Plan != nil && len(out.Plan.Problems) > 0)
	damaged := false
	for _, ch := range out.Checked {
		damaged = damaged || ch.Damaged()
		failed = failed || strings.HasPrefix(ch.Repair, "none")
	}
	code := 0
	switch {
	case detailed:
		if out.Result.Changed > 0 {
			code |= 2
		}
		if failed {
			code |= 4
		}
	case failed, out.verify && damaged:
		code = 1
	}
	if code == 0 {
		return nil
	}
	return &exitError{code: code}
}
