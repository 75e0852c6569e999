package fetchers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

// fake is the part of a fetcherstest.Fake a test case varies.
type fake struct {
	Path   string
	Faults []fetcherstest.Fault
}

func TestRetry(t *testing.T) {
	content := fetcherstest.Content(1000, 3)
	fail := func(at int64, times int) fetcherstest.Fault {
		return fetcherstest.Fault{Kind: fetcherstest.FailAfter, At: at, Times: times}
	}
	type result struct {
		Attempts []int // OnRetry's attempt numbers
		Served   []fetcherstest.Span
		Err      bool
		Perm     bool
	}
	tests := []struct {
		name   string
		fake   fake
		policy fetchers.RetryPolicy
		want   result
	}{
		{"no fault", fake{}, fetchers.RetryPolicy{},
			result{Served: []fetcherstest.Span{sp(0, 1000)}}},
		{"two failures without progress, then success",
			fake{Faults: []fetcherstest.Fault{fail(0, 2)}}, fetchers.RetryPolicy{},
			result{Attempts: []int{1, 2}, Served: []fetcherstest.Span{sp(0, 0), sp(0, 0), sp(0, 1000)}}},
		{"each attempt resumes where the last stopped",
			fake{Faults: []fetcherstest.Fault{fail(100, 1), fail(400, 2)}}, fetchers.RetryPolicy{},
			result{Attempts: []int{1, 1}, Served: []fetcherstest.Span{sp(0, 100), sp(100, 300), sp(400, 600)}}},
		{"progress resets the attempt count",
			fake{Faults: []fetcherstest.Fault{fail(100, 1), fail(200, 2), fail(300, 3), fail(400, 4)}},
			fetchers.RetryPolicy{MaxAttempts: 2},
			result{Attempts: []int{1, 1, 1, 1}, Served: []fetcherstest.Span{sp(0, 100), sp(100, 100), sp(200, 100), sp(300, 100), sp(400, 600)}}},
		{"gives up after MaxAttempts without progress",
			fake{Faults: []fetcherstest.Fault{fail(500, 0)}}, fetchers.RetryPolicy{MaxAttempts: 3},
			result{Attempts: []int{1, 2}, Served: []fetcherstest.Span{sp(0, 500), sp(500, 0), sp(500, 0)}, Err: true}},
		{"permanent error is not retried",
			fake{Path: "elsewhere.img"}, fetchers.RetryPolicy{},
			result{Err: true, Perm: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fetcherstest.Fake{Content: content, ChunkSize: 50, Path: tc.fake.Path, Faults: tc.fake.Faults}
			var got result
			p := tc.policy
			p.InitialInterval = time.Microsecond
			p.OnRetry = func(a int, _ error, _ time.Duration) { got.Attempts = append(got.Attempts, a) }
			buf := fetcherstest.NewBuffer(nil)
			err := fetchers.WithRetry(fake, p).Fetch(t.Context(), fetchers.Request{Image: "slc6", Size: 1000, Path: "slc6.img"}, buf)
			got.Served, got.Err, got.Perm = fake.Served(), err != nil, fetchers.IsPermanent(err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("err %v (-want +got):\n%s", err, diff)
			}
			if err == nil && buf.Offset() != 1000 {
				t.Errorf("success with %d bytes in dst", buf.Offset())
			}
		})
	}
}

func TestRetryStopsWhenCancelledWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	fake := &fetcherstest.Fake{Content: fetcherstest.Content(10, 4),
		Faults: []fetcherstest.Fault{{Kind: fetcherstest.FailAfter, At: 0}}}
	f := fetchers.WithRetry(fake, fetchers.RetryPolicy{
		InitialInterval: time.Hour,
		OnRetry:         func(int, error, time.Duration) { cancel() },
	})
	err := f.Fetch(ctx, fetchers.Request{Image: "slc6", Size: 10}, fetcherstest.NewBuffer(nil))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), fetcherstest.ErrInjected.Error()) {
		t.Errorf("err %v, want context.Canceled naming the last error", err)
	}
	if fake.Calls() != 1 {
		t.Errorf("%d calls, want 1", fake.Calls())
	}
}

func TestRetryWaitsGrow(t *testing.T) {
	var waits []time.Duration
	f := fetchers.WithRetry(fetchers.Func(func(context.Context, fetchers.Request, fetchers.Dst) error {
		return errors.New("refused")
	}), fetchers.RetryPolicy{MaxAttempts: 5, InitialInterval: time.Microsecond, MaxInterval: 4 * time.Microsecond,
		OnRetry: func(_ int, _ error, w time.Duration) { waits = append(waits, w) }})
	if err := f.Fetch(t.Context(), fetchers.Request{Image: "slc6", Size: 1}, fetcherstest.NewBuffer(nil)); err == nil {
		t.Fatal("Fetch succeeded")
	}
	// Jitter is ±50%: the first wait is at most 1.5 µs, the last at most 6 µs
	// and at least 2 µs once the interval reached its cap.
	if len(waits) != 4 || waits[0] > 1500*time.Nanosecond || waits[3] < 2*time.Microsecond || waits[3] > 6*time.Microsecond {
		t.Errorf("waits %v: want 4 growing from 1µs to 4µs (±50%%)", waits)
	}
}
