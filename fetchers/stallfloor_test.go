package fetchers_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

// paced is a source writing content from dst.Offset() on, n bytes every
// interval, counting its calls.
func paced(content []byte, n int, every time.Duration, calls *atomic.Int32) fetchers.Fetcher {
	return fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
		calls.Add(1)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for off := dst.Offset(); off < req.Size; off = dst.Offset() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
			if _, err := dst.Write(content[off:min(off+int64(n), req.Size)]); err != nil {
				return err
			}
		}
		return nil
	})
}

// robust wraps f as the wiring wraps a mirror.
func robust(f fetchers.Fetcher, stall time.Duration) fetchers.Fetcher {
	return fetchers.WithRetry(fetchers.WithStallTimeout(f, stall), fetchers.RetryPolicy{})
}

// TestStallTrickleLeftForNextSource: a source sending 1 byte every 0.5 s
// under a 2 s stall timeout is cut within a few stall windows, not retried,
// and the next source resumes at the offset the trickle reached.
func TestStallTrickleLeftForNextSource(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	content := fetcherstest.Content(size, 7)
	var calls atomic.Int32
	good := &fetcherstest.Fake{Content: content}
	var events []fetchers.Event
	f := fetchers.Fallback([]fetchers.Named{
		{Name: "trickle", Fetcher: robust(paced(content, 1, 500*time.Millisecond, &calls), 2*time.Second)},
		{Name: "good", Fetcher: robust(good, 2*time.Second)},
	}, func(e fetchers.Event) { events = append(events, e) })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // does not hang
	defer cancel()
	buf := fetcherstest.NewBuffer(nil)
	if err := f.Fetch(ctx, fetchers.Request{Image: "slc6", Size: size}, buf); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(events) != 4 {
		t.Fatalf("events %v, want start, fail, start, done", events)
	}
	cut := events[1]
	// Three windows hold 12 bytes of the trickle; a window later than that
	// would be a watchdog that waits for more than it should.
	if cut.Offset < 1 || cut.Offset > 12 || !errors.Is(cut.Err, fetchers.ErrStalled) || !errors.Is(cut.Err, fetchers.ErrTooSlow) {
		t.Errorf("trickle failed at byte %d with %v; want within three windows (12 bytes), stalled and too slow", cut.Offset, cut.Err)
	}
	got := []any{calls.Load(), events[2].Source, events[2].Offset, good.Served(), fetcherstest.Observe(buf, content)}
	want := []any{int32(1), "good", cut.Offset, []fetcherstest.Span{sp(cut.Offset, size-cut.Offset)},
		fetcherstest.Result{Offset: size, Written: size, Intact: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trickle calls, next source, its start, what it served, result (-want +got):\n%s", diff)
	}
}

// TestStallSlowHealthySourceNotCut: 200 KiB/s, a slow link but a healthy
// one, runs for three stall timeouts of 2 s and is never cut.
func TestStallSlowHealthySourceNotCut(t *testing.T) {
	t.Parallel()
	const size = 1200 << 10
	content := fetcherstest.Content(size, 8)
	var calls atomic.Int32
	f := robust(paced(content, 10<<10, 50*time.Millisecond, &calls), 2*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	buf := fetcherstest.NewBuffer(nil)
	err := f.Fetch(ctx, fetchers.Request{Image: "slc6", Size: size}, buf)
	if err != nil || calls.Load() != 1 || !cmp.Equal(fetcherstest.Observe(buf, content), fetcherstest.Result{Offset: size, Written: size, Intact: true}) {
		t.Errorf("200 KiB/s source: err %v after %d calls, %+v", err, calls.Load(), fetcherstest.Observe(buf, content))
	}
}

// TestStallFloorProgressThatCounts: bytes written out of order (WriteAt,
// the offset not moving) and heartbeats keep a transfer alive past many
// stall timeouts; a trickle of WriteAt does not.
func TestStallFloorProgressThatCounts(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	const stall = 300 * time.Millisecond
	content := fetcherstest.Content(size, 9)
	// backwards writes n-byte blocks from the end, one every 20 ms, so the
	// complete prefix (the offset) stays 0 until the last block.
	backwards := func(n int) fetchers.Fetcher {
		return fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
			for end := req.Size; end > 0; end -= int64(n) {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
				off := max(end-int64(n), 0)
				if _, err := dst.WriteAt(content[off:end], off); err != nil {
					return err
				}
			}
			return nil
		})
	}
	beating := fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
		for range 50 { // 1 s of beats, no byte
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			dst.Beat()
		}
		_, err := dst.Write(content)
		return err
	})
	tests := []struct {
		name     string
		f        fetchers.Fetcher
		wantSlow bool
	}{
		{"WriteAt blocks of 64 KiB", backwards(64 << 10), false},
		{"heartbeats", beating, false},
		{"WriteAt trickle", backwards(1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			err := fetchers.WithStallTimeout(tc.f, stall).Fetch(ctx, fetchers.Request{Image: "t", Size: size}, fetcherstest.NewBuffer(nil))
			if errors.Is(err, fetchers.ErrTooSlow) != tc.wantSlow || (err != nil) != tc.wantSlow {
				t.Errorf("err %v, want too slow: %v", err, tc.wantSlow)
			}
		})
	}
}
