package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/internal/safe"
	"github.com/prestaged/prestaged/spec"
)

// Outcome is what Apply did to one image.
type Outcome struct {
	Image  string `json:"image"`
	Action Action `json:"action"`
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
	// Bytes fetched this run, by source name.
	Bytes   map[string]int64 `json:"bytes_by_source,omitempty"`
	Resumed int64            `json:"resumed_bytes,omitempty"`
	Seconds float64          `json:"seconds"`
	// BadSources sent bytes that failed verification.
	BadSources []string `json:"bad_sources,omitempty"`

	Err error `json:"-"`
}

// Result is what Apply did.
type Result struct {
	Outcomes []Outcome `json:"images"`
	Changed  int       `json:"changed"`
	Failed   int       `json:"failed"`
	Seconds  float64   `json:"seconds"`
	// Installed is what the host holds once the run is over, by image.
	Installed []Installed `json:"-"`
}

// Installed is one image the host holds.
type Installed struct {
	Image   string
	Size    int64
	Changed time.Time // when prestaged last installed it
}

// Summary is the one-line apply summary.
func (r *Result) Summary() string {
	n := map[Status]int{}
	for _, o := range r.Outcomes {
		n[o.Status]++
	}
	s := fmt.Sprintf("Apply: %d fetched, %d replaced, %d removed, %d failed", n[StatusFetched]+n[StatusAdopted], n[StatusReplaced], n[StatusRemoved], n[StatusFailed])
	if r.Changed == 0 && r.Failed == 0 {
		s += "; nothing to do, host is converged"
	}
	return s
}

// Apply executes p: a free-space preflight, then images in parallel (bound
// by the spec's parallel), then removals, then garbage collection of blobs
// no image needs. A failed image leaves its previous version in place and
// does not stop the others. The error is for what stops the whole run.
func (e *Engine) Apply(ctx context.Context, p *Plan) (*Result, error) {
	start := e.now()
	if err := e.preflight(p); err != nil {
		return nil, err
	}
	st, err := e.Store.LoadState()
	if err != nil {
		return nil, err
	}
	a := &applier{e: e, st: st}
	res := &Result{Outcomes: make([]Outcome, len(p.Items))}
	sem := make(chan struct{}, max(1, e.Spec.Parallel))
	var wg sync.WaitGroup
	for i := range p.Items {
		it := &p.Items[i]
		if it.Action == ActionOK && !it.blobOnly && it.hooksDue == "" {
			res.Outcomes[i] = Outcome{Image: it.Image, Action: it.Action, Status: StatusOK}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t := time.Now()
			o, perr := a.safeItem(ctx, it)
			if perr != nil {
				a.panicked(perr)
				return
			}
			o.Image, o.Action, o.Seconds = it.Image, it.Action, time.Since(t).Seconds()
			if o.Err != nil {
				o.Err = &ImageError{Image: it.Image, Err: o.Err} // named once, here
				o.Status, o.Error = StatusFailed, o.Err.Error()
			}
			e.reporter().End(o)
			res.Outcomes[i] = o
		}()
	}
	wg.Wait()
	if a.panic != nil {
		// A bug, not an image's failure: the run fails, and gc stays away.
		return nil, fmt.Errorf("apply: an image worker crashed: %w", a.panic)
	}
	if err := a.gc(p); err != nil {
		e.reporter().Event("", "garbage collection: "+err.Error())
	}
	for _, o := range res.Outcomes {
		switch o.Status {
		case StatusFailed:
			res.Failed++
		case StatusOK:
		default:
			res.Changed++
		}
	}
	res.Seconds = e.now().Sub(start).Seconds()
	for _, r := range a.st.Images {
		res.Installed = append(res.Installed, Installed{Image: r.Name, Size: r.File.Size, Changed: r.Installed})
	}
	sort.Slice(res.Installed, func(i, j int) bool { return res.Installed[i].Image < res.Installed[j].Image })
	return res, nil
}

// applier holds the state shared by the image workers of one Apply.
type applier struct {
	e     *Engine
	mu    sync.Mutex
	st    *store.State
	panic error // the first worker panic, recovered
}

// safeItem is item with a panic recovered into perr.
func (a *applier) safeItem(ctx context.Context, it *Item) (o Outcome, perr error) {
	defer safe.Recover(&perr)
	return a.item(ctx, it), nil
}

func (a *applier) panicked(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.panic == nil {
		a.panic = err
	}
}

func (a *applier) item(ctx context.Context, it *Item) Outcome {
	if it.blobOnly { // the install is left alone: fetch the blob only
		o := Outcome{Status: StatusFetched}
		_, _, o.Err = a.fetch(ctx, it, &o)
		return o
	}
	if it.Code == ReasonInUse {
		return Outcome{Status: StatusFailed, Err: errors.New(it.Reason)}
	}
	if it.Action == ActionRemove {
		return a.remove(ctx, it)
	}
	if it.hooksDue != "" {
		return Outcome{Status: StatusOK, Err: a.afterEvent(ctx, it.hooksDue, it)}
	}
	o := Outcome{Status: StatusFetched}
	if it.Action == ActionReplace {
		o.Status = StatusReplaced
	}
	if _, err := store.LstatRegular(it.Install); errors.Is(err, store.ErrNotRegular) {
		o.Err = fmt.Errorf("%w; move it away or change install", err) // before fetching what cannot be installed
		return o
	}
	if adopted, err := a.adopt(ctx, it); err != nil || adopted {
		o.Err = err
		if adopted {
			o.Status = StatusAdopted
			o.Err = a.afterEvent(ctx, spec.EventInstall, it)
		}
		return o
	}
	blob, pre, err := a.fetch(ctx, it, &o)
	if err != nil {
		o.Err = err
		return o
	}
	o.Err = a.install(ctx, it, blob, pre)
	if errors.Is(o.Err, store.ErrBlobCorrupt) {
		o.Err = a.refetch(ctx, it, &o, o.Err)
	}
	if o.Err == nil {
		event := spec.EventInstall
		if it.Action == ActionReplace {
			event = spec.EventReplace
		}
		o.Err = a.afterEvent(ctx, event, it)
	}
	return o
}

// afterEvent runs the hooks of event for it's recorded install, and
// records whether they are still due.
func (a *applier) afterEvent(ctx context.Context, event string, it *Item) error {
	a.mu.Lock()
	rec, ok := a.st.Images[it.Image]
	a.mu.Unlock()
	if !ok {
		return nil
	}
	err := a.runHooks(ctx, event, it.img, rec)
	pending := ""
	if err != nil {
		pending = event
	}
	if rec.HookPending == pending {
		return err
	}
	rec.HookPending = pending
	return errors.Join(err, a.record(func(st *store.State) { st.Images[it.Image] = rec }))
}

// refetch removes a blob that failed the install's check, fetches the image
// again and installs it.
func (a *applier) refetch(ctx context.Context, it *Item, o *Outcome, cause error) error {
	a.e.reporter().Event(it.Image, fmt.Sprintf("the store's blob failed verification (%v); removed, fetching again", cause))
	if err := a.e.Store.RemoveBlob(it.Digest); err != nil {
		return err
	}
	blob, pre, err := a.fetchNew(ctx, it, o)
	if err != nil {
		return err
	}
	return a.install(ctx, it, blob, pre)
}

// install copies the blob to the install path, from where pre (if any)
// stopped, and records it; the previous version stays in place until the
// rename.
func (a *applier) install(ctx context.Context, it *Item, blob store.Blob, pre *store.Prepared) error {
	id, derived, err := installBlob(ctx, it, blob, pre)
	if err != nil {
		return err
	}
	rec := store.Record{Name: it.Image, Digest: it.Digest, Install: it.Install, File: id,
		Installed: a.e.now().UTC(), Trust: it.img.Trust, ID: it.img.ID}
	rec.OnChange, rec.Format = it.img.OnChange, publishedFormat(it.img)
	if derived != nil {
		rec.InstallFormat, rec.InstallDigest = derivedFormat(it.img), derived.Digest
	}
	if cur := it.current; cur != nil && cur.Install != it.Install {
		if _, err := store.RemoveInstalled(cur.Install, cur.File); err != nil {
			a.e.reporter().Event(it.Image, "old install path: "+err.Error())
		}
	}
	return a.record(func(st *store.State) { st.Images[it.Image] = rec })
}

func (a *applier) record(f func(*store.State)) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a.st)
	return a.e.Store.SaveState(a.st)
}

func (a *applier) remove(ctx context.Context, it *Item) Outcome {
	o := Outcome{Status: StatusRemoved}
	if it.current.OnChange == spec.OnChangeKeep {
		if got, err := store.Identify(it.current.Install); err == nil && got != it.current.File {
			a.e.reporter().Event(it.Image, fmt.Sprintf("%s changed since prestaged installed it (on_change = \"keep\"); left in place and forgotten", it.current.Install))
			o.Err = a.record(func(st *store.State) { delete(st.Images, it.Image) })
			return o
		}
	}
	gone, err := store.RemoveInstalled(it.current.Install, it.current.File)
	if err != nil {
		o.Err = err
		return o
	}
	if !gone && fileExists(it.current.Install) {
		a.e.reporter().Event(it.Image, fmt.Sprintf("%s was replaced by someone else since prestaged installed it; left in place", it.current.Install))
	}
	rec := *it.current
	if err := a.runHooks(ctx, spec.EventRemove, it.img, rec); err != nil {
		rec.HookPending = spec.EventRemove // the record stays until they pass
		o.Err = errors.Join(err, a.record(func(st *store.State) { st.Images[it.Image] = rec }))
		return o
	}
	o.Err = a.record(func(st *store.State) { delete(st.Images, it.Image) })
	return o
}

// gc removes blobs and staging files that no image of the spec or of the
// state refers to any more.
func (a *applier) gc(p *Plan) error {
	keep := map[string]bool{}
	for _, it := range p.Items {
		if it.Action != ActionRemove {
			keep[it.Digest.String()] = true
		}
	}
	for _, r := range a.st.Images {
		keep[r.Digest.String()] = true
	}
	return a.e.Store.Prune(keep)
}

var errNoSource = errors.New("no usable source")

func fileExists(p string) bool { _, err := os.Lstat(p); return err == nil }
