package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
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
			if manDir == "" && completionDir == "" {
				return errors.New("gen-docs: give --man DIR, --completions DIR or both")
			}
			root := c.Root()
			root.InitDefaultCompletionCmd()
			root.DisableAutoGenTag = true
			if manDir != "" {
				if err := genMan(root, manDir); err != nil {
					return err
				}
			}
			if completionDir != "" {
				return genCompletions(root, completionDir)
			}
			return nil
		},
	}
	c.Flags().StringVar(&manDir, "man", "", "directory for the section 1 man pages")
	c.Flags().StringVar(&completionDir, "completions", "", "directory for prestaged.bash, _prestaged (zsh) and prestaged.fish")
	return c
}

// genMan writes a page per verb; cobra dates them from SOURCE_DATE_EPOCH
// when set, so packages built twice from one commit are identical.
func genMan(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("gen-docs: %w", err)
	}
	header := &doc.GenManHeader{Section: "1", Source: "prestaged " + version, Manual: "prestaged manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("gen-docs: man pages: %w", err)
	}
	return nil
}

func genCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("gen-docs: %w", err)
	}
	gens := []struct {
		file string
		gen  func(string) error
	}{
		{"prestaged.bash", func(p string) error { return root.GenBashCompletionFileV2(p, true) }},
		{"_prestaged", root.GenZshCompletionFile},
		{"prestaged.fish", func(p string) error { return root.GenFishCompletionFile(p, true) }},
	}
	for _, g := range gens {
		if err := g.gen(filepath.Join(dir, g.file)); err != nil {
			return fmt.Errorf("gen-docs: %s: %w", g.file, err)
		}
	}
	return nil
}
