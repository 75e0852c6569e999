package fetchers

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// StallFloor is the least progress, in bytes, a source must make in every
// stall timeout (or the rest of the image, when less is missing): 64 KiB is
// less than a second of even a 1 Mbit link, so no healthy source misses it,
// while a trickle of a few bytes a second, which no silence timer catches,
// always does. With the default 30 s stall timeout a source must keep above
// about 2 KiB/s, with 2 s above 32 KiB/s.
const StallFloor = 64 << 10

// WithStallTimeout returns a Fetcher that cancels f's fetch when it stalls
// (see Watchdog: no byte for d, or fewer than StallFloor bytes in d), and
// then returns an error wrapping ErrStalled (retryable), and also ErrTooSlow
// when bytes were still arriving, too slowly (WithRetry then leaves the
// source). The clock starts when Fetch is called, so a source that never
// answers stalls too. A d <= 0 returns f unchanged.
//
// The stall error does not wrap the inner fetcher's error: that is only the
// context.Canceled the wrapper caused, and wrapping it would make the caller
// believe it had been cancelled itself.
func WithStallTimeout(f Fetcher, d time.Duration) Fetcher {
	if d <= 0 {
		return f
	}
	return stallFetcher{f: f, d: d}
}

type stallFetcher struct {
	f Fetcher
	d time.Duration
}

// errStallCause is the cancel cause set by the watchdog, to tell its own
// cancellation from the caller's.
var errStallCause = fmt.Errorf("stall watchdog: %w", ErrStalled)

func (s stallFetcher) Fetch(ctx context.Context, req Request, dst Dst) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := NewWatchdog(s.d, req.Size-dst.Offset(), func() { cancel(errStallCause) })
	defer w.Stop()

	err := s.f.Fetch(context.WithValue(ctx, watchKey{}, w), req, progressDst{Dst: dst, w: w})
	if err == nil {
		return nil
	}
	if context.Cause(ctx) == errStallCause {
		return fmt.Errorf("%w (at offset %d)", w.Err(), dst.Offset())
	}
	return err
}

// watchKey is the context key of the watch StallBudget reads.
type watchKey struct{}

// StallBudget reports how long the fetch ctx belongs to may still go without
// progress before the stall watch of WithStallTimeout cuts it, and false
// when no such watch runs. A fetcher told by its source to wait longer than
// that (a Retry-After) gives up at once with a reason, instead of being cut
// mid-wait without one.
func StallBudget(ctx context.Context) (time.Duration, bool) {
	w, ok := ctx.Value(watchKey{}).(*Watchdog)
	if !ok {
		return 0, false
	}
	return w.Budget(), true
}

// Watchdog calls fire once when a transfer stalls: when no byte arrived for
// d (silence), or when a byte arrives and the last StallFloor bytes (the
// rest of the image, when less is missing) took longer than d (a trickle).
// A source steadily faster than StallFloor per d is never cut; a silent one
// is cut d after its last byte, as a timer reset by every byte would.
// Progress and Beat are safe for concurrent use.
type Watchdog struct {
	d     time.Duration
	left  int64 // bytes missing when the watch began
	start time.Time
	fire  func()

	bytes  atomic.Int64 // progress since the watch began
	mark   atomic.Int64 // bytes when the floor was last met
	markAt atomic.Int64 // nanoseconds since start when the floor was last met
	lastAt atomic.Int64 // nanoseconds since start of the latest progress
	fired  atomic.Int32 // a stallKind once fired
	got    atomic.Int64 // bytes of the window that fired too slow

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

type stallKind int32

const (
	notStalled stallKind = iota
	silent
	tooSlow
)

// NewWatchdog starts watching a transfer of left bytes; call Stop when it
// ends.
func NewWatchdog(d time.Duration, left int64, fire func()) *Watchdog {
	w := &Watchdog{d: d, left: left, start: time.Now(), fire: fire}
	w.mu.Lock()
	w.timer = time.AfterFunc(d, w.check)
	w.mu.Unlock()
	return w
}

// Progress reports n bytes written. It runs once per buffer on the data
// path, so it stays cheap: one clock read and a few atomics.
func (w *Watchdog) Progress(n int) {
	if n <= 0 {
		return
	}
	now := int64(time.Since(w.start))
	w.lastAt.Store(now)
	b := w.bytes.Add(int64(n))
	m := w.mark.Load()
	if b-m >= w.need(m) {
		w.mark.Store(b)
		w.markAt.Store(now)
		return
	}
	if time.Duration(now-w.markAt.Load()) >= w.d {
		w.got.Store(b - m)
		w.trip(tooSlow)
	}
}

// Beat counts as meeting the floor: a fetcher beats while its own, more
// patient, stall detection sees it make progress it cannot write yet (a
// swarm receiving blocks of pieces), and that detection decides.
func (w *Watchdog) Beat() {
	now := int64(time.Since(w.start))
	w.lastAt.Store(now)
	w.mark.Store(w.bytes.Load())
	w.markAt.Store(now)
}

// Budget is how long from now the watch lets the transfer go without
// meeting the floor before it fires (it may fire later, at the next byte).
func (w *Watchdog) Budget() time.Duration {
	return w.d - (time.Since(w.start) - time.Duration(w.markAt.Load()))
}

// need is the progress that meets the floor from mark bytes on.
func (w *Watchdog) need(mark int64) int64 { return max(min(StallFloor, w.left-mark), 1) }

// check runs when the timer expires: it re-arms for the time left since the
// latest progress, or fires.
func (w *Watchdog) check() {
	idle := time.Since(w.start) - time.Duration(w.lastAt.Load())
	if idle < w.d {
		w.mu.Lock()
		if !w.stopped {
			w.timer.Reset(w.d - idle)
		}
		w.mu.Unlock()
		return
	}
	w.trip(silent)
}

func (w *Watchdog) trip(k stallKind) {
	if w.fired.CompareAndSwap(int32(notStalled), int32(k)) {
		w.fire()
	}
}

// Stop ends the watch; fire is not called after Stop returns, unless it
// was already running.
func (w *Watchdog) Stop() {
	w.mu.Lock()
	w.stopped = true
	w.timer.Stop()
	w.mu.Unlock()
}

// Err says why the watchdog fired, wrapping ErrStalled, and ErrTooSlow for a
// trickle; nil while it has not fired.
func (w *Watchdog) Err() error {
	switch stallKind(w.fired.Load()) {
	case silent:
		return fmt.Errorf("%w: no byte arrived for %s", ErrStalled, w.d)
	case tooSlow:
		got := w.got.Load()
		return fmt.Errorf("%w: %w: %d bytes arrived in %s, fewer than %d", ErrStalled, ErrTooSlow, got, w.d, w.need(w.mark.Load()))
	}
	return nil
}

// progressDst reports each write and beat to w, and passes the beat on to
// an outer watch.
type progressDst struct {
	Dst
	w *Watchdog
}

func (p progressDst) Write(b []byte) (int, error) {
	n, err := p.Dst.Write(b)
	p.w.Progress(n)
	return n, err
}

func (p progressDst) WriteAt(b []byte, off int64) (int, error) {
	n, err := p.Dst.WriteAt(b, off)
	p.w.Progress(n)
	return n, err
}

func (p progressDst) Beat() {
	p.w.Beat()
	p.Dst.Beat()
}
