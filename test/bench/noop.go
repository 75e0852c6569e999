package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type noopResult struct {
	images int
	size   int64
	rehash time.Duration // sha256sum of every installed file, best of two
	noop   time.Duration // median no-op apply
}

// benchNoop installs the images with prestaged, one more per apply, then
// compares a no-op apply with rehashing what it installed.
func benchNoop(ctx context.Context, cfg config, dir string) (*noopResult, error) {
	mirror := filepath.Join(dir, "mirror")
	if err := os.MkdirAll(mirror, 0o755); err != nil {
		return nil, err
	}
	spec, store := filepath.Join(dir, "spec.hcl"), filepath.Join(dir, "store")
	fmt.Printf("\n(b) installing %d images of %s with prestaged...\n", cfg.noopImages, human(cfg.noopSize))
	var images []specImage
	for i := range cfg.noopImages {
		img, err := installOne(ctx, cfg, dir, spec, store, i, images)
		if err != nil {
			return nil, err
		}
		images = append(images, img)
	}
	r := &noopResult{images: len(images), size: cfg.noopSize}
	var files []string
	for _, im := range images {
		files = append(files, im.install)
	}
	for range 2 {
		d, _, out, err := timed(ctx, "sha256sum", files...)
		if err != nil {
			return nil, err
		}
		if err := checkSums(out, images); err != nil {
			return nil, err
		}
		r.rehash = best(r.rehash, d)
	}
	var runs []time.Duration
	for range 5 {
		d, _, out, err := timed(ctx, cfg.bin, "apply", "--no-progress", "--detailed-exitcodes", spec)
		if err != nil || !strings.Contains(out, "nothing to do") {
			return nil, fmt.Errorf("no-op apply did something: %v\n%s", err, out)
		}
		runs = append(runs, d)
	}
	slices.Sort(runs)
	r.noop = runs[len(runs)/2]
	return r, nil
}

// installOne publishes image i on the file mirror and applies a spec with
// it and the ones before; the mirror copy and the blob are then dropped, as
// a no-op apply reads neither, to keep the disk footprint to the installs.
func installOne(ctx context.Context, cfg config, dir, spec, store string, i int, before []specImage) (specImage, error) {
	name := fmt.Sprintf("image%02d", i)
	src := filepath.Join(dir, "mirror", name+".img")
	sha, err := makeImage(src, cfg.noopSize, uint64(100+i))
	if err != nil {
		return specImage{}, err
	}
	img := specImage{name: name, sha: sha, size: cfg.noopSize, install: filepath.Join(dir, "images", name+".img")}
	if err := writeSpec(spec, store, "file://"+filepath.Join(dir, "mirror")+"/", append(before, img)); err != nil {
		return specImage{}, err
	}
	if _, _, out, err := timed(ctx, cfg.bin, "apply", "--no-progress", spec); err != nil || !strings.Contains(out, "Apply: 1 fetched") {
		return specImage{}, fmt.Errorf("installing %s: %v\n%s", name, err, out)
	}
	os.Remove(src)
	os.Remove(filepath.Join(store, "blobs", "sha256", sha))
	return img, nil
}

func checkSums(out string, images []specImage) error {
	for _, im := range images {
		if !strings.Contains(out, im.sha+"  "+im.install) {
			return fmt.Errorf("sha256sum does not confirm %s:\n%s", im.install, out)
		}
	}
	return nil
}

func (r *noopResult) print(cfg config) {
	fmt.Printf("\n(b) converged host with %d installed images of %s\n", r.images, human(r.size))
	fmt.Printf("    %-44s %9.3f s\n", "sha256sum of the installed files (best of 2)", r.rehash.Seconds())
	fmt.Printf("    %-44s %9.3f s\n", "prestaged apply, nothing to do (median of 5)", r.noop.Seconds())
	ratio := r.rehash.Seconds() / r.noop.Seconds()
	fmt.Printf("    ratio: the no-op apply is %.0fx faster than rehashing; target >= 100x: %s\n", ratio, verdict(ratio >= 100))
}
