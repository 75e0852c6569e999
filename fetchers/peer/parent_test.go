package peer

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

// refusedAddr is a loopback address nobody listens on: a socket bound but
// not listening, held until the test ends, so that connections to it are
// refused and no test server can be given its port. A listener closed at
// once left its port free, and the next test server got it: in one
// `make check` both parents of "refused and missing" were that server.
func refusedAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// stallingParent sends the first n bytes of data, then nothing until the
// child hangs up.
func stallingParent(t *testing.T, data []byte, n int) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data[:n])
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL
}

// rangeLog records the Range header of each request a handler sees.
type rangeLog struct {
	mu     sync.Mutex
	ranges []string
	next   http.Handler
}

func (l *rangeLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.ranges = append(l.ranges, r.Header.Get("Range"))
	l.mu.Unlock()
	l.next.ServeHTTP(w, r)
}

// span is a byte range [Start, End) a source delivered in a Fallback.
type span struct {
	Source     string
	Start, End int64
}

// chain is parents as sources/peer.go wires them: one Parent per parent,
// each under the stall watch, tried in order by fetchers.Fallback. It keeps
// what Fallback reported.
type chain struct {
	fetchers.Fetcher
	mu     sync.Mutex
	events []fetchers.Event
}

func newChain(opts Options, stall time.Duration, addrs ...string) *chain {
	c := &chain{}
	srcs := make([]fetchers.Named, len(addrs))
	for i, a := range addrs {
		srcs[i] = fetchers.Named{Name: a, Fetcher: fetchers.WithStallTimeout(NewParent(a, opts), stall)}
	}
	c.Fetcher = fetchers.Fallback(srcs, func(ev fetchers.Event) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.events = append(c.events, ev)
	})
	return c
}

// served is which source delivered which bytes, from Fallback's events;
// a source that delivered nothing is left out.
func (c *chain) served() []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []span
	var from int64
	for _, ev := range c.events {
		switch {
		case ev.Kind == fetchers.Start:
			from = ev.Offset
		case ev.Offset > from:
			out = append(out, span{Source: ev.Source, Start: from, End: ev.Offset})
		}
	}
	return out
}

// TestParentChainFallback: when a parent fails, the next one resumes where
// it stopped, asking for the rest with Range, and Fallback's events tell
// which parent sent which bytes.
func TestParentChainFallback(t *testing.T) {
	const size = 3<<20 + 11
	data, d := randomBlob(size, 10)
	req := fetchers.Request{Image: "test", Digest: d, Size: size}
	tests := []struct {
		name       string
		first      func(t *testing.T) string
		wantRanges []string // what the second parent was asked
		wantSpans  func(first string) []span
	}{
		{"first refused", refusedAddr, []string{""}, func(string) []span {
			return []span{{Source: "second", Start: 0, End: size}}
		}},
		{"first stalls mid-body", func(t *testing.T) string { return stallingParent(t, data, 1<<20) },
			[]string{"bytes=1048576-"}, func(first string) []span {
				return []span{{Source: first, Start: 0, End: 1 << 20}, {Source: "second", Start: 1 << 20, End: size}}
			}},
		{"first does not serve it", func(t *testing.T) string { return newTestPeer(t).http.URL }, []string{""}, func(string) []span {
			return []span{{Source: "second", Start: 0, End: size}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			second := NewServer(newMemContent(), WithAllowed(map[digest.Digest]int64{d: size}))
			second.content.(*memContent).add(d, data, size)
			log := &rangeLog{next: second}
			srv := httptest.NewServer(log)
			defer srv.Close()
			first := tt.first(t)
			dst := fetcherstest.NewBuffer(nil)
			c := newChain(Options{}, 300*time.Millisecond, first, srv.URL)
			if err := c.Fetch(context.Background(), req, dst); err != nil {
				t.Fatal(err)
			}
			if string(dst.Bytes()) != string(data) {
				t.Fatal("staged bytes differ from the blob")
			}
			if diff := cmp.Diff(tt.wantRanges, log.ranges); diff != "" {
				t.Errorf("second parent asked for (-want +got):\n%s", diff)
			}
			if got, want := second.Status().BytesServed, int64(size)-spanLen(tt.wantSpans(first)[0], first); got != want {
				t.Errorf("second parent sent %d bytes, want %d", got, want)
			}
			spans := c.served()
			for i := range spans {
				if spans[i].Source == srv.URL {
					spans[i].Source = "second"
				}
			}
			if diff := cmp.Diff(tt.wantSpans(first), spans); diff != "" {
				t.Errorf("served (-want +got):\n%s", diff)
			}
		})
	}
}

// spanLen is the length of s when it came from the first parent.
func spanLen(s span, first string) int64 {
	if s.Source != first {
		return 0
	}
	return s.End - s.Start
}

// TestParentErrors: how one parent fails, under the stall watch.
func TestParentErrors(t *testing.T) {
	data, d := randomBlob(1000, 11)
	req := fetchers.Request{Image: "test", Digest: d, Size: 1000}
	tests := []struct {
		name          string
		parent        func(t *testing.T) string
		wantErr       error
		wantPermanent bool
		wantMsg       string
	}{
		{"missing", func(t *testing.T) string { return newTestPeer(t).http.URL }, fetchers.ErrNotFound, true, "does not serve"},
		{"refused", refusedAddr, nil, false, "connection refused"},
		{"no progress", func(t *testing.T) string {
			return newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: 1000})).http.URL
		}, fetchers.ErrStalled, false, ""},
		{"busy", func(t *testing.T) string {
			p := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: 1000}), WithMaxChildren(1))
			p.content.add(d, data, 10)
			t.Cleanup(func() { p.content.land(d, 1000) })   // before the server closes
			go http.Get(p.http.URL + BlobPrefix + d.Path()) // stays open: 10 of 1000 bytes
			for p.srv.Status().Children == 0 {
				time.Sleep(time.Millisecond)
			}
			return p.http.URL
		}, ErrBusy, false, ErrBusy.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fetchers.WithStallTimeout(NewParent(tt.parent(t), Options{PollInterval: 20 * time.Millisecond}), 200*time.Millisecond)
			err := f.Fetch(context.Background(), req, fetcherstest.NewBuffer(nil))
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) || fetchers.IsPermanent(err) != tt.wantPermanent || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Fetch error = %v (permanent %v), want %v (permanent %v) saying %q",
					err, fetchers.IsPermanent(err), tt.wantErr, tt.wantPermanent, tt.wantMsg)
			}
		})
	}
}

// TestParentChainErrors: when every parent fails, Fallback's error keeps
// each parent's own class: one parent's "not found" does not make another's
// refusal permanent.
func TestParentChainErrors(t *testing.T) {
	_, d := randomBlob(1000, 11)
	req := fetchers.Request{Image: "test", Digest: d, Size: 1000}
	type failure struct {
		NotFound, Permanent bool
		Msg                 bool // says the expected words
	}
	tests := []struct {
		name    string
		parents func(t *testing.T) []string
		msgs    []string
		want    []failure
	}{
		{"both missing", func(t *testing.T) []string {
			return []string{newTestPeer(t).http.URL, newTestPeer(t).http.URL}
		}, []string{"does not serve", "does not serve"}, []failure{{true, true, true}, {true, true, true}}},
		{"refused and missing", func(t *testing.T) []string {
			return []string{refusedAddr(t), newTestPeer(t).http.URL}
		}, []string{"connection refused", "does not serve"}, []failure{{false, false, true}, {true, true, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newChain(Options{PollInterval: 20 * time.Millisecond}, 200*time.Millisecond, tt.parents(t)...).
				Fetch(context.Background(), req, fetcherstest.NewBuffer(nil))
			var all *fetchers.NoSourcesError
			if !errors.As(err, &all) || !errors.Is(err, fetchers.ErrNotFound) {
				t.Fatalf("Fetch error = %v, want a NoSourcesError that is ErrNotFound", err)
			}
			var got []failure
			for i, f := range all.Failures {
				got = append(got, failure{errors.Is(f.Err, fetchers.ErrNotFound), fetchers.IsPermanent(f.Err),
					i < len(tt.msgs) && strings.Contains(f.Err.Error(), tt.msgs[i])})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("failures of %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

// TestParentWaitsForProgress: a parent that has not started the image is
// waited on while its own fetch starts, grows and completes.
func TestParentWaitsForProgress(t *testing.T) {
	const size = 1 << 20
	data, d := randomBlob(size, 12)
	for _, completeOnly := range []bool{false, true} {
		t.Run("completeOnly="+strconv.FormatBool(completeOnly), func(t *testing.T) {
			parent := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: size}))
			// d is absent until the parent's own fetch starts.
			p := fetchers.WithStallTimeout(NewParent(parent.http.URL, Options{
				PollInterval: 5 * time.Millisecond, CompleteOnly: completeOnly}), 2*time.Second)
			dst := fetcherstest.NewBuffer(nil)
			errc := make(chan error, 1)
			go func() {
				errc <- p.Fetch(context.Background(), fetchers.Request{Image: "t", Digest: d, Size: size}, dst)
			}()
			// The parent's own fetch: starts, grows, completes.
			time.Sleep(20 * time.Millisecond)
			parent.content.add(d, data, 0)
			for have := 0; have < size; have += 64 << 10 {
				parent.content.land(d, have)
				time.Sleep(2 * time.Millisecond)
			}
			parent.content.land(d, size)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if string(dst.Bytes()) != string(data) {
				t.Fatal("staged bytes differ from the blob")
			}
		})
	}
}
