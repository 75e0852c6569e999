// Package clidocs writes what packages ship from the CLI's own help: a
// man page per verb and the bash, zsh and fish completions.
package clidocs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// Write writes root's man pages into manDir and its completions into
// completionDir; either may be "", not both. source names the build in the
// pages' footer.
func Write(root *cobra.Command, manDir, completionDir, source string) error {
	if manDir == "" && completionDir == "" {
		return errors.New("gen-docs: give --man DIR, --completions DIR or both")
	}
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	if manDir != "" {
		if err := man(root, manDir, source); err != nil {
			return err
		}
	}
	if completionDir != "" {
		return completions(root, completionDir)
	}
	return nil
}

// man writes a page per verb; cobra dates them from SOURCE_DATE_EPOCH
// when set, so packages built twice from one commit are identical.
func man(root *cobra.Command, dir, source string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("gen-docs: %w", err)
	}
	header := &doc.GenManHeader{Section: "1", Source: source, Manual: "prestaged manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("gen-docs: man pages: %w", err)
	}
	return nil
}

func completions(root *cobra.Command, dir string) error {
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
