package node

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/internal/safe"
)

// demand runs the host's fetch when a child asks for an image the host
// neither holds nor fetches, one fetch at a time: a child that started
// before its parent then waits for it, and the tree forms whatever order
// the hosts' timers start in.
type demand struct {
	ctx   context.Context
	fetch func(context.Context) error
	log   *slog.Logger

	mu      sync.Mutex
	running bool
	ended   time.Time
}

// demandPause is how long after a fetch ends the next may start: one that
// failed (no source) is not retried for every request of a polling child.
const demandPause = 2 * time.Second

func (d *demand) missing(dg digest.Digest) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running || time.Since(d.ended) < demandPause || d.ctx.Err() != nil {
		return
	}
	d.running = true
	d.log.Info("a child asks for an image this host does not hold: fetching", "digest", dg.Short())
	safe.Go(func() {
		err := d.fetch(d.ctx)
		if err != nil && d.ctx.Err() == nil {
			d.log.Warn("fetch for a child", "digest", dg.Short(), "err", err)
		}
		d.mu.Lock()
		d.running, d.ended = false, time.Now()
		d.mu.Unlock()
	})
}

// ApplySelf is a Config.Fetch that runs this binary's `apply --stage-only
// SPEC`, its lines in log: it writes only the store (serve's sandbox allows
// no more), and the host's own apply installs from it. An apply already
// running holds the store lock, and this one then leaves the work to it.
func ApplySelf(spec string, log io.Writer) func(context.Context) error {
	return func(ctx context.Context) error {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, self, "apply", "--stage-only", "--no-progress", spec)
		cmd.Stdout, cmd.Stderr = log, log
		return cmd.Run()
	}
}
