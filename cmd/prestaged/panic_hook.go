//go:build prestaged_panictest

package main

import (
	"context"
	"os"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/internal/safe"
	"github.com/prestaged/prestaged/spec"
)

// Built only with -tags prestaged_panictest, for the test that proves a
// crash never reads as success: with PRESTAGED_PANIC set, every source
// panics inside the image worker ("worker") or in a goroutine it starts
// ("goroutine").
func testSources(s engine.Sources) engine.Sources {
	mode := os.Getenv("PRESTAGED_PANIC")
	if mode == "" {
		return s
	}
	return engine.SourcesFunc(func(*spec.Image, spec.Source) ([]fetchers.Named, error) {
		return []fetchers.Named{{Name: "mirror.panic", Fetcher: fetchers.Func(func(ctx context.Context, _ fetchers.Request, _ fetchers.Dst) error {
			if mode == "goroutine" {
				safe.Go(func() { panic("forced panic in a goroutine") })
				<-ctx.Done()
				return ctx.Err()
			}
			panic("forced panic in an image worker")
		})}}, nil
	})
}
