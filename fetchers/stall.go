package fetchers

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// WithStallTimeout returns a Fetcher that cancels f's fetch when no byte has
// reached dst for d, and then returns an error wrapping ErrStalled
// (retryable). The clock starts when Fetch is called, so a source that never
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
	w := newWatchdog(s.d, func() { cancel(errStallCause) })
	defer w.stop()

	err := s.f.Fetch(ctx, req, wrapProgress(dst, w))
	if err == nil {
		return nil
	}
	if context.Cause(ctx) == errStallCause {
		return fmt.Errorf("image %s: %w: no byte arrived for %s (at offset %d)",
			req.Image, ErrStalled, s.d, dst.Offset())
	}
	return err
}

// watchdog calls fire once when no progress was reported for d.
type watchdog struct {
	d       time.Duration
	start   time.Time
	last    atomic.Int64 // nanoseconds since start of the latest progress
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	fire    func()
}

func newWatchdog(d time.Duration, fire func()) *watchdog {
	w := &watchdog{d: d, start: time.Now(), fire: fire}
	w.mu.Lock()
	w.timer = time.AfterFunc(d, w.check)
	w.mu.Unlock()
	return w
}

// progress is called on every write; it must stay cheap (one clock read and
// one atomic store) because it runs once per buffer on the data path.
func (w *watchdog) progress() { w.last.Store(int64(time.Since(w.start))) }

// check runs when the timer expires: it re-arms for the time left since the
// latest progress, or fires.
func (w *watchdog) check() {
	idle := time.Since(w.start) - time.Duration(w.last.Load())
	if idle < w.d {
		w.mu.Lock()
		if !w.stopped {
			w.timer.Reset(w.d - idle)
		}
		w.mu.Unlock()
		return
	}
	w.fire()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	w.timer.Stop()
	w.mu.Unlock()
}

// wrapProgress returns dst reporting each write to w. A RandomDst stays a
// RandomDst, so fetchers that check for it (torrent) keep working.
func wrapProgress(dst Dst, w *watchdog) Dst {
	p := progressDst{dst: dst, w: w}
	if r, ok := dst.(RandomDst); ok {
		return progressRandomDst{progressDst: p, r: r}
	}
	return p
}

type progressDst struct {
	dst Dst
	w   *watchdog
}

func (p progressDst) Write(b []byte) (int, error) {
	n, err := p.dst.Write(b)
	if n > 0 {
		p.w.progress()
	}
	return n, err
}

func (p progressDst) Offset() int64 { return p.dst.Offset() }

// Beat implements Heartbeat, and passes the beat on to an outer watcher.
func (p progressDst) Beat() {
	p.w.progress()
	Beat(p.dst)
}

type progressRandomDst struct {
	progressDst
	r RandomDst
}

func (p progressRandomDst) WriteAt(b []byte, off int64) (int, error) {
	n, err := p.r.WriteAt(b, off)
	if n > 0 {
		p.w.progress()
	}
	return n, err
}

func (p progressRandomDst) ReadAt(b []byte, off int64) (int, error) { return p.r.ReadAt(b, off) }
