package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/prestaged/prestaged/node"
	"github.com/prestaged/prestaged/spec"
	"github.com/spf13/cobra"
)

type serveFlags struct {
	listen   string
	shutdown time.Duration
	json     bool
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	c := newSpecVerb("serve", "Serve this host's images to its children in the distribution tree", func(c *cobra.Command, path string) error {
		return runServe(c.Context(), path, f, c.ErrOrStderr())
	})
	c.Long = `serve runs the peer server: it streams the images named in the spec to
children, including images this host is still fetching (cut-through). It
reloads the spec on SIGHUP, stops gracefully on SIGTERM, and speaks systemd
(readiness, status, watchdog, socket activation).`
	c.Flags().StringVar(&f.listen, "listen", "", "address to listen on (default: the spec's peer.listen, else "+spec.DefaultListen+")")
	c.Flags().DurationVar(&f.shutdown, "shutdown-timeout", 10*time.Second, "on SIGTERM, how long children may finish their downloads")
	c.Flags().BoolVar(&f.json, "json", false, "log JSON lines instead of text")
	return c
}

func runServe(ctx context.Context, path string, f serveFlags, errw io.Writer) error {
	log := slog.New(slog.NewTextHandler(errw, nil))
	if f.json {
		log = slog.New(slog.NewJSONHandler(errw, nil))
	}
	return node.Run(ctx, node.Config{
		SpecPath: path,
		Load: func(p string) (*spec.Spec, error) {
			s, _, err := loadSpec(p, errw, false)
			return s, err
		},
		Listen:          f.listen,
		ShutdownTimeout: f.shutdown,
		Log:             log,
		Fetch:           func(ctx context.Context) error { return applyAsChild(ctx, path, errw) },
		Version:         version,
		Commit:          versionInfo()["commit"],
	})
}

// applyAsChild runs `prestaged apply SPEC` as the timer would, its lines
// in serve's log; one already running holds the store lock, and this one
// then leaves the work to it.
func applyAsChild(ctx context.Context, path string, log io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "apply", "--no-progress", path)
	cmd.Stdout, cmd.Stderr = log, log
	return cmd.Run()
}
