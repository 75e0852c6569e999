package main

import (
	"fmt"

	"github.com/prestaged/prestaged/spec"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var asJSON bool
	c := newSpecVerb("validate", "Check a spec and print every problem with its file, line and column", func(c *cobra.Command, path string) error {
		_, problems, err := loadSpec(path, c.ErrOrStderr(), asJSON)
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
	return c
}
