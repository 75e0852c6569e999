package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/report"
	"github.com/prestaged/prestaged/sources"
	"github.com/prestaged/prestaged/spec"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// specArg is the spec path: the first argument or the packaged default.
func specArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return spec.DefaultPath
}

// loadSpec parses and validates the spec, printing every diagnostic (or,
// with asJSON, returning them for the verb's JSON object).
func loadSpec(path string, w io.Writer, asJSON bool) (*spec.Spec, []spec.Problem, error) {
	if _, err := os.Stat(path); err != nil && !asJSON {
		return nil, nil, report.SpecFileError(path, spec.DefaultPath, err)
	}
	s, diags := spec.Parse(path)
	if !diags.HasErrors() {
		if len(diags.Diagnostics) > 0 && !asJSON {
			spec.Render(w, diags, isTerminal(w))
		}
		return s, spec.Problems(diags.Diagnostics), nil
	}
	if asJSON {
		return nil, spec.Problems(diags.Diagnostics), fmt.Errorf("spec %s is not valid", path)
	}
	spec.Render(w, diags, isTerminal(w))
	return nil, nil, fmt.Errorf("spec %s is not valid: %d error(s); nothing was changed", path, countErrors(diags))
}

func countErrors(diags interface{ Errs() []error }) int { return len(diags.Errs()) }

// newEngine opens the store and wires the sources for s; close stops what
// the sources started (the swarm).
func newEngine(s *spec.Spec, rep engine.Reporter, log *slog.Logger) (e *engine.Engine, close func() error, err error) {
	st, err := store.Open(s.Store)
	if err != nil {
		return nil, nil, err
	}
	srcs := sources.New(s, st, log)
	return &engine.Engine{Spec: s, Store: st, Sources: testSources(srcs), Reporter: rep, Trust: engine.ListTrust(s, st),
		Committed: srcs.Committed}, srcs.Close, nil
}

// newVerb is the skeleton every leaf verb shares: usage, one-line help,
// positional arguments and what it runs. Callers add Long help and flags.
func newVerb(use, short string, args cobra.PositionalArgs, run func(c *cobra.Command, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: run}
}

// newSpecVerb is a verb on one spec: the argument SPEC, or the packaged
// default.
func newSpecVerb(name, short string, run func(c *cobra.Command, path string) error) *cobra.Command {
	return newVerb(name+" [SPEC]", short, cobra.MaximumNArgs(1), func(c *cobra.Command, args []string) error {
		return run(c, specArg(args))
	})
}

// newGroup is a verb that only holds subcommands.
func newGroup(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short}
	c.AddCommand(subs...)
	return c
}

// planned is what plan and status show: the spec and its plan.
type planned struct {
	path   string
	spec   *spec.Spec
	plan   *engine.Plan
	asJSON bool
}

// newPlanVerb is a verb that loads the spec (diagnostics to stderr, also
// with --json), plans it without changing anything and shows the plan:
// plan and status.
func newPlanVerb(name, short string, show func(c *cobra.Command, p planned) error) *cobra.Command {
	var asJSON bool
	c := newSpecVerb(name, short, func(c *cobra.Command, path string) error {
		s, p, err := planSpec(c, path)
		if err != nil {
			return err
		}
		return show(c, planned{path: path, spec: s, plan: p, asJSON: asJSON})
	})
	addJSONFlag(c, &asJSON)
	return c
}

// planSpec loads and plans the spec at path; it stops what the sources
// started before returning.
func planSpec(c *cobra.Command, path string) (*spec.Spec, *engine.Plan, error) {
	s, _, err := loadSpec(path, c.ErrOrStderr(), false)
	if err != nil {
		return nil, nil, err
	}
	e, closeSources, err := newEngine(s, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	defer closeSources()
	p, err := e.Plan(c.Context())
	return s, p, err
}

// renderProblems writes a plan's warnings and problems for operators.
func renderProblems(w io.Writer, p *engine.Plan) {
	for _, s := range p.Warnings {
		fmt.Fprintln(w, "warning:", s)
	}
	for _, s := range p.Problems {
		fmt.Fprintln(w, "error:", s)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
}

func addJSONFlag(c *cobra.Command, p *bool) {
	c.Flags().BoolVar(p, "json", false, "print one JSON object (schema in docs/json.md) instead of text")
}

func addWaitFlag(c *cobra.Command, p *time.Duration) {
	c.Flags().DurationVar(p, "wait", 0, "wait this long for another prestaged apply to release the store lock")
}
