package main

import (
	"context"
	"io"
	"log/slog"

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
		Fetch:           node.ApplySelf(path, errw),
		Version:         version,
		Commit:          versionInfo()["commit"],
	})
}
