package fetchers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

const testPath = "slc6.img"

func sp(off, n int64) fetcherstest.Span { return fetcherstest.Span{Off: off, N: n} }

func TestFallback(t *testing.T) {
	content := fetcherstest.Content(1000, 1)
	failAt := func(at int64) *fetcherstest.Fake {
		return &fetcherstest.Fake{Content: content, Path: testPath, ChunkSize: 64,
			Faults: []fetcherstest.Fault{{Kind: fetcherstest.FailAfter, At: at}}}
	}
	good := func() *fetcherstest.Fake { return &fetcherstest.Fake{Content: content, Path: testPath, ChunkSize: 64} }
	missing := func() *fetcherstest.Fake { return &fetcherstest.Fake{Content: content, Path: "elsewhere.img"} }
	ev := func(src string, k fetchers.EventKind, off int64, err error) fetchers.Event {
		return fetchers.Event{Source: src, Kind: k, Offset: off, Err: err}
	}
	tests := []struct {
		name       string
		staged     int
		sources    []*fetcherstest.Fake
		wantErr    []error // each must be wrapped; nil: success
		wantEvents []fetchers.Event
		wantServed [][]fetcherstest.Span // per source
	}{
		{"first fails midway, second resumes", 0, []*fetcherstest.Fake{failAt(300), good()}, nil,
			[]fetchers.Event{ev("a", fetchers.Start, 0, nil), ev("a", fetchers.Fail, 300, fetcherstest.ErrInjected),
				ev("b", fetchers.Start, 300, nil), ev("b", fetchers.Done, 1000, nil)},
			[][]fetcherstest.Span{{sp(0, 300)}, {sp(300, 700)}}},
		{"staged bytes are not fetched again", 100, []*fetcherstest.Fake{missing(), good()}, nil,
			[]fetchers.Event{ev("a", fetchers.Start, 100, nil), ev("a", fetchers.Fail, 100, fetchers.ErrNotFound),
				ev("b", fetchers.Start, 100, nil), ev("b", fetchers.Done, 1000, nil)},
			[][]fetcherstest.Span{nil, {sp(100, 900)}}},
		{"first succeeds, second untouched", 0, []*fetcherstest.Fake{good(), good()}, nil,
			[]fetchers.Event{ev("a", fetchers.Start, 0, nil), ev("a", fetchers.Done, 1000, nil)},
			[][]fetcherstest.Span{{sp(0, 1000)}, nil}},
		{"all fail", 0, []*fetcherstest.Fake{missing(), failAt(200)},
			[]error{fetchers.ErrNoSources, fetchers.ErrNotFound, fetcherstest.ErrInjected},
			[]fetchers.Event{ev("a", fetchers.Start, 0, nil), ev("a", fetchers.Fail, 0, fetchers.ErrNotFound),
				ev("b", fetchers.Start, 0, nil), ev("b", fetchers.Fail, 200, fetcherstest.ErrInjected)},
			[][]fetcherstest.Span{nil, {sp(0, 200)}}},
		{"no sources", 0, nil, []error{fetchers.ErrNoSources}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var named []fetchers.Named
			for i, f := range tc.sources {
				named = append(named, fetchers.Named{Name: string(rune('a' + i)), Fetcher: f})
			}
			var events []fetchers.Event
			fb := fetchers.Fallback(named, func(e fetchers.Event) { events = append(events, e) })
			buf := fetcherstest.NewBuffer(content[:tc.staged])
			err := fb.Fetch(t.Context(), fetchers.Request{Image: "slc6", Size: 1000, Path: testPath}, buf)
			checkWraps(t, err, tc.wantErr)
			if diff := cmp.Diff(tc.wantEvents, events, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			var served [][]fetcherstest.Span
			for _, f := range tc.sources {
				served = append(served, f.Served())
			}
			if diff := cmp.Diff(tc.wantServed, served); diff != "" {
				t.Errorf("served per source (-want +got):\n%s", diff)
			}
		})
	}
}

func checkWraps(t *testing.T, err error, want []error) {
	t.Helper()
	if (err == nil) != (want == nil) {
		t.Fatalf("err %v, want one wrapping %v", err, want)
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("err %v does not wrap %v", err, w)
		}
	}
}

func TestFallbackErrorNamesEverySource(t *testing.T) {
	errA, errB := errors.New("connection refused"), errors.New("status 503")
	fb := fetchers.Fallback([]fetchers.Named{
		{Name: "parents", Fetcher: fetchers.Func(func(context.Context, fetchers.Request, fetchers.Dst) error { return errA })},
		{Name: "mirror.central", Fetcher: fetchers.Func(func(context.Context, fetchers.Request, fetchers.Dst) error { return errB })},
	}, nil)
	err := fb.Fetch(t.Context(), fetchers.Request{Image: "slc6", Size: 10}, fetcherstest.NewBuffer(nil))
	var nse *fetchers.NoSourcesError
	if !errors.As(err, &nse) {
		t.Fatalf("err %v is not a *NoSourcesError", err)
	}
	want := fetchers.NoSourcesError{Image: "slc6", Failures: []fetchers.SourceError{
		{Source: "parents", Err: errA}, {Source: "mirror.central", Err: errB},
	}}
	if diff := cmp.Diff(want, *nse, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	const msg = "no source could deliver the image: parents (at byte 0): connection refused; mirror.central (at byte 0): status 503"
	if err.Error() != msg {
		t.Errorf("message\n%s\nwant\n%s", err, msg)
	}
}

func TestFallbackStopsWhenCancelled(t *testing.T) {
	content := fetcherstest.Content(100, 2)
	second := &fetcherstest.Fake{Content: content}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	fb := fetchers.Fallback([]fetchers.Named{
		{Name: "a", Fetcher: fetchers.Func(func(context.Context, fetchers.Request, fetchers.Dst) error {
			cancel()
			return errors.New("interrupted")
		})},
		{Name: "b", Fetcher: second},
	}, nil)
	err := fb.Fetch(ctx, fetchers.Request{Image: "slc6", Size: 100}, fetcherstest.NewBuffer(nil))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("err %v, want context.Canceled mentioning the first source's error", err)
	}
	if second.Calls() != 0 {
		t.Errorf("second source called %d times after cancellation", second.Calls())
	}
}

func TestFallbackDistrustsAnEarlySuccess(t *testing.T) {
	content := fetcherstest.Content(100, 3)
	liar := fetchers.Func(func(_ context.Context, _ fetchers.Request, dst fetchers.Dst) error {
		_, err := dst.Write(content[:40])
		return err
	})
	good := &fetcherstest.Fake{Content: content}
	fb := fetchers.Fallback([]fetchers.Named{{Name: "liar", Fetcher: liar}, {Name: "good", Fetcher: good}}, nil)
	buf := fetcherstest.NewBuffer(nil)
	if err := fb.Fetch(t.Context(), fetchers.Request{Image: "slc6", Size: 100}, buf); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if diff := cmp.Diff([]fetcherstest.Span{sp(40, 60)}, good.Served()); diff != "" {
		t.Errorf("second source served (-want +got):\n%s", diff)
	}
}
