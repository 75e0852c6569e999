package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
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
func newEngine(s *spec.Spec, rep engine.Reporter) (e *engine.Engine, close func() error, err error) {
	st, err := store.Open(s.Store)
	if err != nil {
		return nil, nil, err
	}
	srcs := sources.New(s, st)
	return &engine.Engine{Spec: s, Store: st, Sources: testSources(srcs), Reporter: rep, Trust: engine.ListTrust(s, st),
		Committed: srcs.Committed}, srcs.Close, nil
}

// planSpec loads the spec (diagnostics to stderr, also with --json) and
// plans it without changing anything: what plan and status show.
func planSpec(c *cobra.Command, path string) (*spec.Spec, *engine.Plan, error) {
	s, _, err := loadSpec(path, c.ErrOrStderr(), false)
	if err != nil {
		return nil, nil, err
	}
	e, closeSources, err := newEngine(s, nil)
	if err != nil {
		return nil, nil, err
	}
	defer closeSources()
	p, err := e.Plan(c.Context())
	return s, p, err
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
