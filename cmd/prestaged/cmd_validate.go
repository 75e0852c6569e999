package main

import (
	"github.com/prestaged/prestaged/spec"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "validate [SPEC]",
		Short: "Check a spec and print every problem with its file, line and column",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			path := specArg(args)
			_, problems, err := loadSpec(path, c.ErrOrStderr(), asJSON)
			if asJSON {
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
			}
			if err != nil {
				return err
			}
			c.Printf("%s: valid\n", path)
			return nil
		},
	}
	addJSONFlag(c, &asJSON)
	return c
}
