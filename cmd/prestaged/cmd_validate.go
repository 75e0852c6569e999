package main

import (
	"fmt"

	"github.com/prestaged/prestaged/report"
	"github.com/prestaged/prestaged/spec"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var asJSON, strict bool
	c := newSpecVerb("validate", "Check a spec and print every problem with its file, line and column", func(c *cobra.Command, path string) error {
		s, problems, err := loadSpec(path, c.ErrOrStderr(), asJSON)
		if strict && err == nil {
			if more := report.StrictProblems(s); len(more) > 0 {
				problems, err = append(problems, more...), fmt.Errorf("spec %s is not valid under --strict", path)
				report.RenderProblems(c.ErrOrStderr(), more, asJSON)
			}
		}
		if !asJSON {
			if err == nil {
				fmt.Fprintf(c.OutOrStdout(), "%s: valid\n", path)
			}
			return err
		}
		if problems == nil {
			problems = []spec.Problem{}
		}
		if jerr := writeJSON(c.OutOrStdout(), map[string]any{"spec": path, "valid": err == nil, "problems": problems}); jerr != nil {
			return jerr
		}
		if err != nil {
			return errReported
		}
		return nil
	})
	addJSONFlag(c, &asJSON)
	c.Flags().BoolVar(&strict, "strict", false, "also refuse what apply would do silently: install directories it would create")
	return c
}
