package fetchers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

func TestStallTimeout(t *testing.T) {
	content := fetcherstest.Content(1000, 5)
	type result struct {
		Stalled, Slow, Cancelled, Perm bool
		Offset                         int64
	}
	tests := []struct {
		name    string
		faults  []fetcherstest.Fault
		timeout time.Duration
		cancel  bool // the caller cancels after the first write
		want    result
	}{
		{"no stall", nil, time.Minute, false, result{Offset: 1000}},
		{"stall mid-body", []fetcherstest.Fault{{Kind: fetcherstest.StallAfter, At: 500}}, 20 * time.Millisecond, false,
			result{Stalled: true, Offset: 500}},
		{"stall before the first byte", []fetcherstest.Fault{{Kind: fetcherstest.StallAfter, At: 0}}, 20 * time.Millisecond, false,
			result{Stalled: true}},
		{"the caller's cancellation is not a stall", []fetcherstest.Fault{{Kind: fetcherstest.StallAfter, At: 500}}, time.Hour, true,
			result{Cancelled: true, Offset: 500}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fetcherstest.Fake{Content: content, ChunkSize: 100, Faults: tc.faults}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			buf := fetcherstest.NewBuffer(nil)
			if tc.cancel {
				buf.OnWrite = func(n int64) {
					if n == 500 {
						cancel()
					}
				}
			}
			err := fetchers.WithStallTimeout(fake, tc.timeout).Fetch(ctx, fetchers.Request{Image: "slc6", Size: 1000}, buf)
			got := result{errors.Is(err, fetchers.ErrStalled), errors.Is(err, fetchers.ErrTooSlow), errors.Is(err, context.Canceled), fetchers.IsPermanent(err), buf.Offset()}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("err %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

// TestStallTimeoutPassesDst: writes at any offset and beats pass through
// the wrapper to the Dst, and writes count as progress.
func TestStallTimeoutPassesDst(t *testing.T) {
	dst := fetcherstest.NewBuffer(nil)
	inner := fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
		if _, err := dst.WriteAt([]byte("cd"), 2); err != nil {
			return err
		}
		dst.Beat()
		_, err := dst.WriteAt([]byte("ab"), 0)
		return err
	})
	err := fetchers.WithStallTimeout(inner, time.Minute).Fetch(t.Context(), fetchers.Request{Image: "t", Size: 4}, dst)
	if err != nil || dst.Offset() != 4 || dst.Beats() != 1 {
		t.Errorf("err %v, offset %d (want 4), beats %d (want 1)", err, dst.Offset(), dst.Beats())
	}
}

// TestStallBudget: a fetcher under WithStallTimeout learns how long it may
// still wait without progress; outside one, that there is no watch.
func TestStallBudget(t *testing.T) {
	if _, ok := fetchers.StallBudget(t.Context()); ok {
		t.Error("StallBudget outside a watch: ok")
	}
	var budget time.Duration
	var watched bool
	inner := fetchers.Func(func(ctx context.Context, _ fetchers.Request, _ fetchers.Dst) error {
		budget, watched = fetchers.StallBudget(ctx)
		return nil
	})
	if err := fetchers.WithStallTimeout(inner, time.Minute).Fetch(t.Context(), fetchers.Request{Image: "t", Size: 4}, fetcherstest.NewBuffer(nil)); err != nil {
		t.Fatal(err)
	}
	if !watched || budget <= 0 || budget > time.Minute {
		t.Errorf("StallBudget under a 1m watch = %s, %v; want within (0, 1m], true", budget, watched)
	}
}
