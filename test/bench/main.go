// Command bench measures prestaged against the baselines of issue 2, in one
// run on one filesystem, and prints each comparison as a ratio:
//
//	(a) staging an image from nginx on loopback through `prestaged apply`
//	    vs `curl -s URL | tee FILE | sha256sum` (target >= 0.9x throughput);
//	(b) a no-op `prestaged apply` over installed images vs `sha256sum` of
//	    them (target >= 100x faster);
//	(c) peak RSS of `prestaged apply` while staging (target < 64 MiB).
//
// `make bench` runs it with the defaults; shrink the sizes to smoke-test:
//
//	go run ./test/bench -size 64MiB -noop-images 3 -noop-size 16MiB
//
// It needs nginx, curl, tee, sha256sum and bash. It is a harness: product
// code never imports it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/prestaged/prestaged/spec"
)

type config struct {
	bin        string
	dir        string
	size       int64
	noopImages int
	noopSize   int64
	rounds     int
	keep       bool
}

func main() {
	cfg, err := parseFlags()
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = run(ctx, cfg)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags() (config, error) {
	var cfg config
	var size, noopSize string
	flag.StringVar(&cfg.bin, "bin", "", "prestaged binary (default: dist/prestaged if present, else built into the temp dir)")
	flag.StringVar(&cfg.dir, "dir", os.TempDir(), "parent of the temp dir; every file of the bench lands on its filesystem")
	flag.StringVar(&size, "size", "2GiB", "image size for the staging and RSS comparisons")
	flag.IntVar(&cfg.noopImages, "noop-images", 10, "installed images for the no-op comparison")
	flag.StringVar(&noopSize, "noop-size", "1GiB", "size of each of those images")
	flag.IntVar(&cfg.rounds, "rounds", 2, "alternating rounds of each staging run; the best of each is compared")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temp dir")
	flag.Parse()
	var err error
	if cfg.size, err = spec.ParseSize(size); err != nil {
		return cfg, err
	}
	if cfg.noopSize, err = spec.ParseSize(noopSize); err != nil {
		return cfg, err
	}
	if cfg.rounds < 1 || cfg.noopImages < 1 {
		return cfg, fmt.Errorf("-rounds and -noop-images must be at least 1")
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config) error {
	for _, p := range []string{"nginx", "curl", "tee", "sha256sum", "bash"} {
		if _, err := lookPath(p); err != nil {
			return fmt.Errorf("%s is needed (make deps installs it): %w", p, err)
		}
	}
	dir, err := os.MkdirTemp(cfg.dir, "prestaged-bench-")
	if err != nil {
		return err
	}
	if !cfg.keep {
		defer os.RemoveAll(dir)
	}
	if cfg.bin, err = binary(ctx, cfg.bin, dir); err != nil {
		return err
	}
	fmt.Printf("prestaged bench in %s (%s), %d CPUs, binary %s\n\n", dir, filesystem(dir), numCPU(), cfg.bin)
	st, err := benchStaging(ctx, cfg, filepath.Join(dir, "staging"))
	if err != nil {
		return fmt.Errorf("staging comparison: %w", err)
	}
	st.print(cfg)
	noop, err := benchNoop(ctx, cfg, filepath.Join(dir, "noop"))
	if err != nil {
		return fmt.Errorf("no-op comparison: %w", err)
	}
	noop.print(cfg)
	st.printRSS()
	return nil
}
