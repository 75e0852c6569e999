package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=$(git describe)".
var version = "dev"

func versionInfo() map[string]string {
	v := map[string]string{"version": version, "go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v["commit"] = s.Value
			}
		}
	}
	return v
}

// versionLine is what `prestaged version` and `prestaged --version` print.
func versionLine() string { return fmt.Sprintf("prestaged %s (%s)\n", version, runtime.Version()) }

func newVersionCmd() *cobra.Command {
	var asJSON bool
	c := newVerb("version", "Print prestaged's version", cobra.NoArgs, func(c *cobra.Command, _ []string) error {
		v := versionInfo()
		if asJSON {
			return writeJSON(c.OutOrStdout(), v)
		}
		_, err := io.WriteString(c.OutOrStdout(), versionLine())
		return err
	})
	addJSONFlag(c, &asJSON)
	return c
}
