// Command prestaged pre-stages large virtual machine images on every host of
// a farm. main is tiny: one root context cancelled by SIGINT/SIGTERM, one
// table from errors to exit codes; each verb lives in its own cmd_*.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/prestaged/prestaged/internal/safe"
	"github.com/spf13/cobra"
)

func main() {
	defer safe.Crash() // a panic exits 1: the runtime's 2 would read as "changes applied"
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	verb := "prestaged"
	if len(os.Args) > 1 {
		verb = filepath.Base(os.Args[1])
	}
	stopProfile := startProfile(verb)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	stopProfile()
	os.Exit(exitCode(err))
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "prestaged",
		Short: "Pre-stage large VM images on every host of a farm",
		Long: `prestaged converges a host to its spec: every image the spec lists is fetched
from a parent in the distribution tree, a BitTorrent swarm or a mirror,
verified, and installed atomically. 'prestaged serve' feeds this host's children.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetVersionTemplate(versionLine())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	root.AddCommand(newValidateCmd(), newPlanCmd(), newApplyCmd(), newStatusCmd(),
		newVerifyCmd(), newServeCmd(), newListCmd(), newTorrentCmd(), newDemoCmd(), newVersionCmd())
	root.AddCommand(newGenDocsCmd())
	return root
}

// exitError carries a process exit code, with or without a message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode is the one table from errors to exit codes: nil is 0, an
// exitError says its own code (Puppet's and Terraform's detailed codes), and
// everything else is a fatal error, 1.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "prestaged:", ee.err)
		}
		return ee.code
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintln(os.Stderr, "prestaged:", err)
	}
	return 1
}

// errReported: the verb already printed what went wrong.
var errReported = errors.New("reported")
