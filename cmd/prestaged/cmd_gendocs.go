package main

import (
	"github.com/prestaged/prestaged/internal/clidocs"
	"github.com/spf13/cobra"
)

// newGenDocsCmd is the hidden verb the package build runs, so the man pages
// and shell completions shipped are generated from this binary's own help.
func newGenDocsCmd() *cobra.Command {
	var manDir, completionDir string
	c := &cobra.Command{
		Use:    "gen-docs --man DIR --completions DIR",
		Short:  "Write a man page per verb and the bash, zsh and fish completions",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return clidocs.Write(c.Root(), manDir, completionDir, "prestaged "+version)
		},
	}
	c.Flags().StringVar(&manDir, "man", "", "directory for the section 1 man pages")
	c.Flags().StringVar(&completionDir, "completions", "", "directory for prestaged.bash, _prestaged (zsh) and prestaged.fish")
	return c
}
