package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// stagingResult is the best of each contender over the rounds.
type stagingResult struct {
	size     int64
	pipeline time.Duration // curl | tee | sha256sum
	synced   time.Duration // the same followed by an fsync of the file
	staged   time.Duration // prestaged apply until the verified blob exists
	applied  time.Duration // the whole apply, with the install copy
	rss      int64         // peak over the prestaged runs
}

// benchStaging serves one image from nginx and stages it alternately with
// the pipeline and with prestaged, in the same directory tree.
func benchStaging(ctx context.Context, cfg config, dir string) (*stagingResult, error) {
	root := filepath.Join(dir, "www")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	fmt.Printf("(a) writing a %s image for nginx...\n", human(cfg.size))
	sha, err := makeImage(filepath.Join(root, "image.img"), cfg.size, 1)
	if err != nil {
		return nil, err
	}
	base, stop, err := testutil.LaunchNginx("nginx", dir, root)
	if err != nil {
		return nil, err
	}
	defer stop()
	r := &stagingResult{size: cfg.size}
	for i := range cfg.rounds {
		if err := r.pipelineRound(ctx, dir, base+"image.img", sha); err != nil {
			return nil, err
		}
		if err := r.prestagedRound(ctx, cfg, filepath.Join(dir, fmt.Sprint("apply", i)), base, sha); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func best(cur, d time.Duration) time.Duration {
	if cur == 0 || d < cur {
		return d
	}
	return cur
}

func (r *stagingResult) pipelineRound(ctx context.Context, dir, url, sha string) error {
	out := filepath.Join(dir, "pipeline.img")
	defer os.Remove(out)
	script := `set -o pipefail; curl -sf "$1" | tee "$2" | sha256sum`
	d, _, got, err := timed(ctx, "bash", "-c", script, "bash", url, out)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(got, sha) {
		return fmt.Errorf("pipeline hashed %q, want %s", strings.TrimSpace(got), sha)
	}
	r.pipeline = best(r.pipeline, d)
	start := time.Now()
	if err := exec.CommandContext(ctx, "sync", out).Run(); err != nil {
		return fmt.Errorf("sync %s: %w", out, err)
	}
	r.synced = best(r.synced, d+time.Since(start))
	return nil
}

// prestagedRound runs `prestaged apply` on a fresh store and notes when the
// verified blob appears: the end of staging (fetch, hash, fsync, rename).
func (r *stagingResult) prestagedRound(ctx context.Context, cfg config, dir, base, sha string) error {
	defer os.RemoveAll(dir)
	spec := filepath.Join(dir, "spec.hcl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	img := specImage{name: "image", sha: sha, size: cfg.size, install: filepath.Join(dir, "images", "image.img")}
	if err := writeSpec(spec, filepath.Join(dir, "store"), base, []specImage{img}); err != nil {
		return err
	}
	blob := filepath.Join(dir, "store", "blobs", "sha256", sha)
	start := time.Now()
	staged := make(chan time.Duration, 1)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go watchFor(pctx, blob, start, staged)
	d, rss, out, err := timed(ctx, cfg.bin, "apply", "--no-progress", spec)
	cancel()
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Apply: 1 fetched") {
		return fmt.Errorf("prestaged apply did not fetch the image:\n%s", out)
	}
	st, ok := <-staged
	if !ok {
		return fmt.Errorf("never saw the blob %s appear", blob)
	}
	r.staged, r.applied, r.rss = best(r.staged, st), best(r.applied, d), max(r.rss, rss)
	return nil
}

// watchFor sends how long after start path appeared, or closes ch.
func watchFor(ctx context.Context, path string, start time.Time, ch chan<- time.Duration) {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			ch <- time.Since(start)
			return
		}
		select {
		case <-ctx.Done():
			if _, err := os.Stat(path); err == nil {
				ch <- time.Since(start)
				return
			}
			close(ch)
			return
		case <-t.C:
		}
	}
}

func (r *stagingResult) print(cfg config) {
	fmt.Printf("\n(a) staging a %s image from nginx on loopback (best of %d rounds each)\n", human(r.size), cfg.rounds)
	row := func(name string, d time.Duration) {
		fmt.Printf("    %-44s %7.2f s  %7.0f MiB/s\n", name, d.Seconds(), mibps(r.size, d))
	}
	row("curl -s URL | tee FILE | sha256sum", r.pipeline)
	row("  the same, then fsync FILE", r.synced)
	row("prestaged apply, until the verified blob", r.staged)
	row("  the whole apply, with the install copy", r.applied)
	ratio := r.pipeline.Seconds() / r.staged.Seconds()
	fmt.Printf("    ratio: prestaged staging at %.2fx the pipeline's throughput (%.2fx the fsynced pipeline's); target >= 0.9x: %s\n",
		ratio, r.synced.Seconds()/r.staged.Seconds(), verdict(ratio >= 0.9))
}

func (r *stagingResult) printRSS() {
	fmt.Printf("\n(c) peak RSS of prestaged apply while staging the %s image\n", human(r.size))
	fmt.Printf("    %s (wait4 rusage ru_maxrss), %.0f%% of the 64 MiB target: %s\n",
		human(r.rss), 100*float64(r.rss)/(64<<20), verdict(r.rss < 64<<20))
}
