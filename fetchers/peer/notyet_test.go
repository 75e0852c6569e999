package peer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prestaged/prestaged/fetchers/fetcherstest"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/fetchers"
)

// polled is a parent answering "not yet" as answer says, for its n-th
// request (from 1), and the whole blob once answer returns a negative have.
// It records when each request came.
type polled struct {
	mu    sync.Mutex
	times []time.Time
	url   string
}

func newPolled(t *testing.T, data []byte, answer func(n int) (have int64, retryAfter string)) *polled {
	p := &polled{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.times = append(p.times, time.Now())
		n := len(p.times)
		p.mu.Unlock()
		have, ra := answer(n)
		if have < 0 {
			http.ServeContent(w, r, "blob", time.Time{}, strings.NewReader(string(data)))
			return
		}
		w.Header().Set(HeaderHave, strconv.FormatInt(have, 10))
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *polled) polls() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.times...)
}

// goodParent serves the whole blob d.
func goodParent(t *testing.T, d digest.Digest, data []byte) string {
	t.Helper()
	srv := NewServer(newMemContent(), WithAllowed(map[digest.Digest]int64{d: int64(len(data))}))
	srv.content.(*memContent).add(d, data, len(data))
	return newHTTPServer(t, srv)
}

// TestParentNotYetFloor: a "not yet" parent is waited on only while what
// it holds grows by the stall floor per stall timeout; one growing by a byte
// a poll is left, and one claiming more than the image is left and named.
// The next parent, through Fallback, serves the image.
func TestParentNotYetFloor(t *testing.T) {
	const size = 1 << 20
	data, d := randomBlob(size, 40)
	req := fetchers.Request{Image: "t", Digest: d, Size: size}
	tests := []struct {
		name    string
		answer  func(n int) (int64, string)
		wantErr error  // alone, this parent fails so
		wantMsg string // and says so
	}{
		{"grows a byte per poll", func(n int) (int64, string) { return int64(n), "" }, fetchers.ErrStalled, ""},
		{"claims more than the image", func(n int) (int64, string) { return size + 1, "" }, fetchers.ErrTooLong, "claims to hold 1048577 bytes"},
		{"grows by the floor, for longer than the stall timeout", func(n int) (int64, string) {
			if n > 30 { // 30 polls of 20 ms: two stall timeouts
				return -1, ""
			}
			return int64(n) * 32 << 10, "" // 64 KiB every two polls
		}, nil, ""},
	}
	const stall = 300 * time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // does not hang
			defer cancel()
			opts := Options{PollInterval: 20 * time.Millisecond}
			first := newPolled(t, data, tt.answer)
			dst := fetcherstest.NewBuffer(nil)
			err := newChain(opts, stall, first.url).Fetch(ctx, req, dst)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) || tt.wantErr != nil && !strings.Contains(err.Error(), first.url) ||
				!strings.Contains(errString(err), tt.wantMsg) {
				t.Fatalf("alone: Fetch = %v, want %v naming %s and saying %q", err, tt.wantErr, first.url, tt.wantMsg)
			}
			if tt.wantErr == fetchers.ErrTooLong && !fetchers.IsPermanent(err) {
				t.Errorf("a lying parent is retryable: %v", err)
			}
			if tt.wantErr == nil {
				return
			}
			second := goodParent(t, d, data)
			var events []string
			opts.OnEvent = func(parent, msg string) { events = append(events, parent+": "+msg) }
			c := newChain(opts, stall, first.url, second)
			dst = fetcherstest.NewBuffer(nil)
			if err := c.Fetch(ctx, req, dst); err != nil || string(dst.Bytes()) != string(data) {
				t.Fatalf("with a good second parent: %v, %d bytes staged", err, dst.Len())
			}
			if diff := cmp.Diff([]span{{Source: second, Start: 0, End: size}}, c.served()); diff != "" {
				t.Errorf("served (-want +got):\n%s\nevents: %q", diff, events)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestParentChainBodyTrickle: a parent whose body trickles, a byte every
// 20 ms, is left within a few stall timeouts, and the next parent resumes
// at the offset it reached.
func TestParentChainBodyTrickle(t *testing.T) {
	const size = 1 << 20
	data, d := randomBlob(size, 41)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for i := 0; i < size; i++ {
			if _, err := w.Write(data[i : i+1]); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	second := goodParent(t, d, data)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := newChain(Options{}, 300*time.Millisecond, srv.URL, second)
	dst := fetcherstest.NewBuffer(nil)
	if err := c.Fetch(ctx, fetchers.Request{Image: "t", Digest: d, Size: size}, dst); err != nil || string(dst.Bytes()) != string(data) {
		t.Fatalf("Fetch: %v, %d bytes staged", err, dst.Len())
	}
	spans := c.served()
	if len(spans) != 2 || spans[0].Source != srv.URL || spans[0].End < 1 || spans[0].End > 60 ||
		spans[1] != (span{Source: second, Start: spans[0].End, End: size}) {
		t.Errorf("served = %+v, want a few bytes from the trickle, the rest from the second parent from there", spans)
	}
	var why error
	for _, ev := range c.events {
		if ev.Source == srv.URL && ev.Kind == fetchers.Fail {
			why = ev.Err
		}
	}
	if !errors.Is(why, fetchers.ErrTooSlow) {
		t.Errorf("the trickling parent was left for %v, want %v", why, fetchers.ErrTooSlow)
	}
}

// TestParentRetryAfter: a "not yet" parent's Retry-After is honoured (no
// poll sooner) while it fits in the stall budget; one past the budget is a
// stall at once, not a wait.
func TestParentRetryAfter(t *testing.T) {
	const size = 1 << 20
	data, d := randomBlob(size, 42)
	req := fetchers.Request{Image: "t", Digest: d, Size: size}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // does not hang
	defer cancel()

	t.Run("within the budget", func(t *testing.T) {
		parent := newPolled(t, data, func(n int) (int64, string) {
			if n > 3 {
				return -1, ""
			}
			return int64(n) * fetchers.StallFloor, "1"
		})
		p := fetchers.WithStallTimeout(NewParent(parent.url, Options{PollInterval: 10 * time.Millisecond}), 3*time.Second)
		dst := fetcherstest.NewBuffer(nil)
		if err := p.Fetch(ctx, req, dst); err != nil || string(dst.Bytes()) != string(data) {
			t.Fatalf("Fetch: %v, %d bytes staged", err, dst.Len())
		}
		polls := parent.polls()
		for i := 1; i < len(polls); i++ {
			if gap := polls[i].Sub(polls[i-1]); gap < time.Second {
				t.Errorf("poll %d came %s after the one before, sooner than Retry-After: 1", i+1, gap)
			}
		}
		if len(polls) != 4 {
			t.Errorf("%d requests, want 4", len(polls))
		}
	})
	t.Run("past the budget", func(t *testing.T) {
		parent := newPolled(t, data, func(int) (int64, string) { return 0, "60" })
		p := fetchers.WithStallTimeout(NewParent(parent.url, Options{PollInterval: 10 * time.Millisecond}), time.Second)
		err := p.Fetch(ctx, req, fetcherstest.NewBuffer(nil))
		if !errors.Is(err, fetchers.ErrStalled) || !strings.Contains(err.Error(), "past the stall budget") || len(parent.polls()) != 1 {
			t.Errorf("Fetch = %v after %d requests; want a stall past the budget after 1", err, len(parent.polls()))
		}
	})
	t.Run("unwatched", func(t *testing.T) {
		parent := newPolled(t, data, func(n int) (int64, string) {
			if n > 1 {
				return -1, ""
			}
			return 0, "1"
		})
		err := NewParent(parent.url, Options{PollInterval: 10 * time.Millisecond}).Fetch(ctx, req, fetcherstest.NewBuffer(nil))
		polls := parent.polls()
		if err != nil || len(polls) != 2 || polls[1].Sub(polls[0]) < time.Second {
			t.Errorf("without a stall watch: Fetch = %v after %d polls; want the blob after waiting as asked", err, len(polls))
		}
	})
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{}}
		if tt.value != "" {
			resp.Header.Set("Retry-After", tt.value)
		}
		if got, ok := retryAfter(resp, now); got != tt.want || ok != tt.ok {
			t.Errorf("Retry-After %q: %s, %v; want %s, %v", tt.value, got, ok, tt.want, tt.ok)
		}
	}
}
