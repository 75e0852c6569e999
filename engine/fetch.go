package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
)

// fetch returns the verified blob for the item's digest, fetching it when the
// store does not hold it. When the staged bytes fail verification, the
// sources that sent them are excluded and the image is fetched again from
// the others; a single culprit is named in BadSources.
func (a *applier) fetch(ctx context.Context, it *Item, o *Outcome) (store.Blob, *store.Prepared, error) {
	if b, ok := a.e.Store.Blob(it.Digest); ok && b.Size == it.Size {
		return b, nil, nil
	}
	all, err := a.sources(it)
	if err != nil {
		return store.Blob{}, nil, err
	}
	excluded := map[string]bool{}
	for {
		srcs := slices.DeleteFunc(slices.Clone(all), func(n fetchers.Named) bool { return excluded[n.Name] })
		if len(srcs) == 0 {
			return store.Blob{}, nil, fmt.Errorf("image %s: every source sent bytes that failed verification (%s): %w",
				it.Image, strings.Join(o.BadSources, ", "), store.ErrDigestMismatch)
		}
		blob, pre, used, err := a.attempt(ctx, it, srcs, o)
		if !errors.Is(err, store.ErrDigestMismatch) {
			return blob, pre, err
		}
		for _, u := range used {
			excluded[u] = true
		}
		o.BadSources = append(o.BadSources, used...)
		a.e.reporter().Event(it.Image, fmt.Sprintf("bytes from %s failed verification (%v); refetching from the other sources",
			strings.Join(used, ", "), err))
	}
}

// attempt stages the image from srcs in order and commits it, copying it
// to beside its install path as it lands (store.Prepared). It returns the
// sources that contributed bytes.
func (a *applier) attempt(ctx context.Context, it *Item, srcs []fetchers.Named, o *Outcome) (store.Blob, *store.Prepared, []string, error) {
	stg, err := a.e.Store.Stage(ctx, it.Digest, it.Size)
	if err != nil {
		return store.Blob{}, nil, nil, fmt.Errorf("image %s: %w", it.Image, err)
	}
	var pre *store.Prepared
	if it.Install != "" {
		pre = stg.Prepare(it.Install)
	}
	o.Resumed = stg.Resumed()
	rep := a.e.reporter()
	rep.Begin(it.Image, it.Size, stg.Resumed(), stg.Offset)
	cnt := &counter{bytes: map[string]int64{}}
	wrapped := make([]fetchers.Named, len(srcs))
	for i, s := range srcs {
		wrapped[i] = fetchers.Named{Name: s.Name, Fetcher: cnt.wrap(s)}
	}
	onEvent := func(ev fetchers.Event) { rep.Event(it.Image, describeEvent(ev)) }
	req := fetchers.Request{Image: it.Image, Digest: it.Digest, Size: it.Size, Path: it.img.Path}
	err = fetchers.Fallback(wrapped, onEvent).Fetch(ctx, req, stg)
	o.Bytes = cnt.merge(o.Bytes)
	if err != nil {
		pre.Abort()
		stg.Abort()                        // keep the bytes: the next run resumes
		return store.Blob{}, nil, nil, err // Fallback's error names the image and every source
	}
	blob, err := stg.Commit()
	if err != nil {
		pre.Abort()
		return store.Blob{}, nil, cnt.used(), fmt.Errorf("image %s: %w", it.Image, err)
	}
	if a.e.Committed != nil {
		a.e.Committed(it.img, blob, cnt.used())
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
		named, err := a.e.Sources(it.img, src)
		if err != nil {
			a.e.reporter().Event(it.Image, fmt.Sprintf("source %s unusable: %v", src, err))
			continue
		}
		out = append(out, named...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("image %s: %w", it.Image, errNoSource)
	}
	return out, nil
}

// adopt takes over a file already at the install path that prestaged did not
// install, when its content is the image; a different file is refused.
func (a *applier) adopt(ctx context.Context, it *Item) (bool, error) {
	if it.current != nil && it.current.Install == it.Install || !fileExists(it.Install) {
		return false, nil
	}
	if r, owned := a.st.Owns(it.Install); owned && r.Name != it.Image {
		return false, fmt.Errorf("image %s: install path %s is where image %q is installed", it.Image, it.Install, r.Name)
	}
	if it.current != nil {
		return false, nil // replacing our own file at the same path
	}
	f, err := os.Open(it.Install)
	if err != nil {
		return false, fmt.Errorf("image %s: %w", it.Image, err)
	}
	defer f.Close()
	got, n, err := digest.Of(it.Digest.Algo(), ctxFile{ctx, f})
	if err != nil {
		return false, fmt.Errorf("image %s: hashing %s: %w", it.Image, it.Install, err)
	}
	if got != it.Digest || n != it.Size {
		return false, fmt.Errorf("image %s: %s: %w; move it away or change install", it.Image, it.Install, store.ErrForeignFile)
	}
	id, err := store.Identify(it.Install)
	if err != nil {
		return false, err
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

// counter records how many bytes each source wrote.
type counter struct {
	mu    sync.Mutex
	bytes map[string]int64
}

func (c *counter) add(name string, n int) {
	c.mu.Lock()
	c.bytes[name] += int64(n)
	c.mu.Unlock()
}

func (c *counter) used() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k, v := range c.bytes {
		if v > 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func (c *counter) merge(into map[string]int64) map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if into == nil {
		into = map[string]int64{}
	}
	for k, v := range c.bytes {
		into[k] += v
	}
	return into
}

func (c *counter) wrap(s fetchers.Named) fetchers.Fetcher {
	return fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
		return s.Fetch(ctx, req, countingDst(dst, func(n int) { c.add(s.Name, n) }))
	})
}
