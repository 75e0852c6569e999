package sources

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/spec"
)

// Names says what each source stands for without starting anything; the
// swarm starts with the first torrent fetcher and stops at Close.
func TestSetLifecycle(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &spec.Spec{Store: st.Root(), StallTimeout: spec.DefaultStallTimeout,
		Mirrors: []*spec.Mirror{{Name: "m", URL: "http://mirror.example/"}},
		Peer:    &spec.Peer{Parents: []string{"p1:7946", "p2:7946"}},
		Torrent: &spec.Torrent{Listen: "127.0.0.1:0"}}
	img := &spec.Image{Name: "vm", Path: "vm.img", Size: 10}
	x := New(s, st, nil)
	var names []string
	for _, src := range []spec.Source{{Kind: spec.SourceParents}, {Kind: spec.SourceTorrent}, {Kind: spec.SourceMirror, Name: "m"}} {
		n, err := x.Names(img, src)
		if err != nil {
			t.Fatalf("Names(%s): %v", src, err)
		}
		names = append(names, n...)
	}
	if want := []string{"parent p1:7946", "parent p2:7946", "torrent", "mirror.m"}; !slices.Equal(names, want) {
		t.Errorf("Names: %q, want %q", names, want)
	}
	if x.started {
		t.Fatal("Names started the swarm")
	}
	f, err := x.Fetchers(img, spec.Source{Kind: spec.SourceTorrent})
	if err != nil || len(f) != 1 || f[0].Name != "torrent" || x.swarm == nil {
		t.Fatalf("Fetchers(torrent): %v, %v; swarm started %t", f, err, x.swarm != nil)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Fetchers(img, spec.Source{Kind: spec.SourceTorrent}); !errors.Is(err, errClosed) {
		t.Errorf("Fetchers after Close: %v, want errClosed", err)
	}
	if _, err := x.Names(img, spec.Source{Kind: spec.SourceMirror, Name: "nope"}); err == nil {
		t.Error("Names of a mirror the spec lacks: no error")
	}
}

// TestRetryHonoursStallTimeout: a source that refuses every attempt is
// left after waits that add up to about the stall_timeout, not the
// default backoff's 15 s.
func TestRetryHonoursStallTimeout(t *testing.T) {
	s := &spec.Spec{StallTimeout: 300 * time.Millisecond}
	p := retryPolicy(s)
	var waited time.Duration
	p.OnRetry = func(_ int, _ error, wait time.Duration) { waited += wait }
	refused := fetchers.Func(func(context.Context, fetchers.Request, fetchers.Dst) error {
		return errors.New("connect: connection refused")
	})
	err := fetchers.WithRetry(refused, p).Fetch(context.Background(), fetchers.Request{Size: 1}, emptyDst{})
	if err == nil || waited > s.StallTimeout*3/2 {
		t.Errorf("retries waited %s in all (stall_timeout %s), error %v", waited, s.StallTimeout, err)
	}
}

// emptyDst is a destination no byte reaches.
type emptyDst struct{ fetchers.Dst }

func (emptyDst) Offset() int64 { return 0 }

// TestChainProbes: only a host of a computed chain, not its tail, judges
// its parents' growth; trees and explicit parents keep their shape.
func TestChainProbes(t *testing.T) {
	hosts := []string{"h0:7946", "h1:7946", "h2:7946"}
	tests := []struct {
		name string
		peer spec.Peer
		want bool
	}{
		{"chain", spec.Peer{Hosts: hosts, Fanout: 1, Self: "h1:7946"}, true},
		{"the chain's tail", spec.Peer{Hosts: hosts, Fanout: 1, Self: "h2:7946"}, false},
		{"binary tree", spec.Peer{Hosts: hosts, Fanout: 2, Self: "h1:7946"}, false},
		{"explicit parents", spec.Peer{Parents: []string{"h0:7946"}}, false},
		{"one host", spec.Peer{Hosts: hosts[:1], Fanout: 1, Self: "h0:7946"}, false},
	}
	for _, tt := range tests {
		if got := chain(&tt.peer); got != tt.want {
			t.Errorf("%s: chain = %v, want %v", tt.name, got, tt.want)
		}
	}
}
