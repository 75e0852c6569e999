package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
)

// fetch returns the blob for the item's digest, fetching it when the store
// does not hold it. A blob an earlier run committed is checked again by the
// install that copies it (store.Install).
func (a *applier) fetch(ctx context.Context, it *Item, o *Outcome) (store.Blob, *store.Prepared, error) {
	if b, ok := a.e.Store.Blob(it.Digest); ok && b.Size == it.Size {
		return b, nil, nil
	}
	return a.fetchNew(ctx, it, o)
}

// fetchNew stages the image from its sources, in order, each resuming where
// the one before stopped, and commits it. When the staged bytes fail
// verification, only the sources shown to have sent bad bytes are blamed
// (BadSources) and excluded, and the image is fetched again: see isolate.
func (a *applier) fetchNew(ctx context.Context, it *Item, o *Outcome) (store.Blob, *store.Prepared, error) {
	all, err := a.sources(it)
	if err != nil {
		return store.Blob{}, nil, err
	}
	excluded := map[string]bool{}
	for {
		srcs := slices.DeleteFunc(slices.Clone(all), func(n fetchers.Named) bool { return excluded[n.Name] })
		if len(srcs) == 0 {
			return store.Blob{}, nil, fmt.Errorf("every source sent bytes that failed verification (%s): %w",
				strings.Join(o.BadSources, ", "), store.ErrDigestMismatch)
		}
		blob, pre, rej, err := a.attempt(ctx, it, srcs, o, false)
		if rej == nil {
			return blob, pre, err
		}
		if who, sole := rej.led.soleWriter(); sole {
			rej.discard()
			a.blame(it, o, who, "sent bytes that failed verification; fetching from the other sources")
			excluded[who] = true
			continue
		}
		return a.isolate(ctx, it, srcs, rej, o)
	}
}

// isolate fetches the image again after bytes written by several sources
// (or left by an earlier run) failed verification together. Each source is
// tried alone, from the first byte: one whose bytes alone fail is a
// culprit; the first whose bytes verify gives the blob. The ranges each
// source wrote in the failed fetch are then compared with that blob, so
// that a source which sent bad bytes and then failed is named too, and
// bytes of an earlier run are discarded without blaming anyone.
func (a *applier) isolate(ctx context.Context, it *Item, srcs []fetchers.Named, rej *rejected, o *Outcome) (store.Blob, *store.Prepared, error) {
	sums, err := rej.sums(ctx)
	rej.discard()
	if err != nil {
		return store.Blob{}, nil, fmt.Errorf("reading the bytes that failed verification: %w", err)
	}
	a.e.reporter().Event(it.Image, fmt.Sprintf("bytes from %s failed verification together; fetching from each source alone to find which",
		strings.Join(rej.led.writers(), ", ")))
	var errs []error
	for _, s := range srcs {
		blob, pre, rej2, err := a.attempt(ctx, it, []fetchers.Named{s}, o, true)
		switch {
		case err == nil:
			for _, name := range sums.differ(ctx, blob) {
				if !slices.Contains(o.BadSources, name) {
					a.blame(it, o, name, "sent bytes that differ from the verified image")
				}
			}
			return blob, pre, nil
		case rej2 != nil:
			rej2.discard()
			a.blame(it, o, s.Name, "alone sent bytes that failed verification")
		default:
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			return store.Blob{}, nil, ctx.Err()
		}
	}
	return store.Blob{}, nil, fmt.Errorf("no source alone delivered bytes that verify (sources blamed: %s): %w",
		orNone(o.BadSources), errors.Join(append(errs, store.ErrDigestMismatch)...))
}

func (a *applier) blame(it *Item, o *Outcome, source, why string) {
	o.BadSources = append(o.BadSources, source)
	a.e.reporter().Event(it.Image, fmt.Sprintf("source %s %s", source, why))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// attempt stages the image from srcs in order and commits it, copying it
// to beside its install path as it lands (store.Prepared). When the staged
// bytes fail verification it returns them as rejected, with which source
// wrote which bytes; the caller must discard it. With alone, the staging
// file starts empty and a failed fetch discards its bytes instead of
// keeping them for a resume.
func (a *applier) attempt(ctx context.Context, it *Item, srcs []fetchers.Named, o *Outcome, alone bool) (store.Blob, *store.Prepared, *rejected, error) {
	stg, err := a.e.Store.Stage(ctx, it.Digest, it.Size)
	if err != nil {
		return store.Blob{}, nil, nil, err
	}
	if alone && stg.Resumed() > 0 {
		stg.Discard()
		if stg, err = a.e.Store.Stage(ctx, it.Digest, it.Size); err != nil {
			return store.Blob{}, nil, nil, err
		}
	}
	var pre *store.Prepared
	if !it.blobOnly && derivedFormat(it.img) == "" { // a converted install is written after the fetch
		pre = stg.Prepare(it.Install)
	}
	if !alone {
		o.Resumed = stg.Resumed()
	}
	rep := a.e.reporter()
	rep.Begin(it.Image, it.Size, stg.Resumed(), stg.Offset)
	led := newLedger(stg.Resumed())
	wrapped := make([]fetchers.Named, len(srcs))
	for i, s := range srcs {
		wrapped[i] = fetchers.Named{Name: s.Name, Fetcher: led.wrap(s)}
	}
	onEvent := func(ev fetchers.Event) { rep.Event(it.Image, describeEvent(ev)) }
	req := fetchers.Request{Image: it.Image, Digest: it.Digest, Size: it.Size, Path: it.img.Path}
	err = fetchers.Fallback(wrapped, onEvent).Fetch(ctx, req, stg)
	o.Bytes = led.merge(o.Bytes)
	if err != nil {
		pre.Abort()
		if alone {
			stg.Discard()
		} else {
			stg.Abort() // keep the bytes: the next run resumes
		}
		return store.Blob{}, nil, nil, err // Fallback's error names the image and every source
	}
	blob, err := stg.Commit()
	if errors.Is(err, store.ErrDigestMismatch) {
		pre.Abort()
		return store.Blob{}, nil, &rejected{stg: stg, led: led}, err
	}
	if err != nil {
		pre.Abort()
		return store.Blob{}, nil, nil, err
	}
	if a.e.Committed != nil {
		a.e.Committed(it.img, blob, led.writers())
	}
	return blob, pre, nil, nil
}

func describeEvent(ev fetchers.Event) string {
	switch ev.Kind {
	case fetchers.Start:
		return fmt.Sprintf("source %s: starting at byte %d", ev.Source, ev.Offset)
	case fetchers.Fail:
		return fmt.Sprintf("source %s: failed at byte %d: %v", ev.Source, ev.Offset, ev.Err)
	default:
		return fmt.Sprintf("source %s: done", ev.Source)
	}
}

func (a *applier) sources(it *Item) ([]fetchers.Named, error) {
	var out []fetchers.Named
	for _, src := range it.img.Sources {
		named, err := a.e.Sources.Fetchers(it.img, src)
		if err != nil {
			a.e.reporter().Event(it.Image, fmt.Sprintf("source %s unusable: %v", src, err))
			continue
		}
		out = append(out, named...)
	}
	if len(out) == 0 {
		return nil, errNoSource
	}
	return out, nil
}

// adopt takes over a file already at the install path that prestaged did not
// install, when its content is the image (and then removes the copy it
// installed at the image's old path, if any); a different file is refused,
// never renamed over.
func (a *applier) adopt(ctx context.Context, it *Item) (bool, error) {
	if it.current != nil && it.current.Install == it.Install || !fileExists(it.Install) {
		return false, nil // nothing there, or our own file being replaced
	}
	if r, owned := a.st.Owns(it.Install); owned && r.Name != it.Image {
		return false, fmt.Errorf("install path %s is where image %q is installed", it.Install, r.Name)
	}
	f, err := store.OpenRegular(it.Install)
	if err != nil {
		return false, fmt.Errorf("%w; move it away or change install", err)
	}
	defer f.Close()
	got, n, err := digest.Of(it.Digest.Algo(), ctxFile{ctx, f})
	if err != nil {
		return false, fmt.Errorf("hashing %s: %w", it.Install, err)
	}
	if got != it.Digest || n != it.Size {
		return false, fmt.Errorf("%s: %w; move it away or change install", it.Install, store.ErrForeignFile)
	}
	id, err := store.IdentifyFile(f) // the file hashed is the file recorded
	if err != nil {
		return false, err
	}
	if cur := it.current; cur != nil {
		if _, err := store.RemoveInstalled(cur.Install, cur.File); err != nil {
			a.e.reporter().Event(it.Image, "old install path: "+err.Error())
		}
	}
	rec := store.Record{Name: it.Image, Digest: it.Digest, Install: it.Install, File: id, Installed: a.e.now().UTC(),
		Trust: it.img.Trust, ID: it.img.ID}
	return true, a.record(func(st *store.State) { st.Images[it.Image] = rec })
}

type ctxFile struct {
	ctx context.Context
	f   *os.File
}

func (c ctxFile) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.f.Read(p)
}
