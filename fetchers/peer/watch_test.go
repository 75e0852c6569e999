package peer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

// TestJudge: the two rules over two snapshots a window apart, with the
// windows a chain, a slow host and a slow parent show.
func TestJudge(t *testing.T) {
	const size, mb = 256 << 20, 1 << 20
	// at has a tail holding as much as the parent.
	at := func(parent, ancestor, mine float64) snapshot {
		return snapshot{parent: holding{int64(parent * mb), true}, ancestor: holding{int64(ancestor * mb), true},
			tail: holding{int64(parent * mb), true}, mine: int64(mine * mb)}
	}
	tailAt := func(s snapshot, tail holding) snapshot { s.tail = tail; return s }
	tests := []struct {
		name      string
		prev, cur snapshot
		best      int64
		want      verdict
	}{
		{"chain in step", at(40, 41, 39), at(46, 47, 45), 6 * mb, keep},
		{"late child catching up", at(200, 201, 40), at(206, 207, 46), 6 * mb, keep},
		{"slow parent under a shared uplink", at(10, 30, 10), at(11.5, 34.5, 11.5), 6 * mb, skipParent},
		{"own link slow under a shared uplink", at(30, 31, 10), at(34.5, 35.5, 11.5), 6 * mb, ownLinkSlow},
		{"parent a bit slower than its parent", at(10, 30, 10), at(13, 34.5, 13), 6 * mb, keep},
		{"slow parent, fast ancestor", at(10, 40, 10), at(11, 46, 11), 6 * mb, skipParent},
		{"slow parent, complete ancestor", at(10, 256, 10), at(11, 256, 11), 6 * mb, skipParent},
		{"complete ancestor, parent a hop behind", at(255, 256, 254), at(255, 256, 255), 6 * mb, keep},
		{"complete ancestor, nobody seen fast", at(10, 256, 10), at(11, 256, 11), 1 * mb, keep},
		{"own link slow", at(40, 41, 10), at(46, 47, 11), 6 * mb, ownLinkSlow},
		{"own link slow, no tail", at(40, 41, 10), tailAt(at(46, 47, 11), holding{}), 6 * mb, keep},
		{"own link slow, tail not started", at(40, 41, 10), tailAt(at(46, 47, 11), holding{0, true}), 6 * mb, keep},
		{"own link slow, tail behind this host", at(40, 41, 10), tailAt(at(46, 47, 11), holding{11 * mb, true}), 6 * mb, keep},
		{"parent complete", at(256, 256, 10), at(256, 256, 11), 6 * mb, keep},
		{"nobody moves", at(0, 0, 0), at(0, 0, 0), 0, keep},
		{"parent does not answer", snapshot{ancestor: holding{40 * mb, true}, mine: 10 * mb},
			snapshot{ancestor: holding{46 * mb, true}, mine: 11 * mb}, 6 * mb, keep},
		{"ancestor does not answer", at(10, 0, 10), snapshot{parent: holding{11 * mb, true}, mine: 11 * mb}, 6 * mb, keep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := judge(tt.prev, tt.cur, size, tt.best); got != tt.want {
				t.Errorf("judge = %d, want %d", got, tt.want)
			}
		})
	}
}

// landing is a test peer whose blob lands step bytes every tick until
// complete, as a host receiving it from its own parent.
func landing(t *testing.T, d digest.Digest, data []byte, step int, opts ...Option) *testPeer {
	t.Helper()
	p := newTestPeer(t, append(opts, WithAllowed(map[digest.Digest]int64{d: int64(len(data))}))...)
	p.content.add(d, data, 0)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for have := 0; have < len(data); {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			have = min(have+step, len(data))
			p.content.land(d, have)
		}
	}()
	return p
}

// TestParentLeavesSlowParent: a parent that grows at a tenth of its own
// parent's rate is left with ErrSlow while it streams, and the ancestor,
// next in Fallback, resumes from the staged bytes.
func TestParentLeavesSlowParent(t *testing.T) {
	data, d := randomBlob(48<<20, 7)
	ancestor := landing(t, d, data, 1<<20)
	parent := landing(t, d, data, 100<<10)
	opts := Options{PollInterval: 10 * time.Millisecond, ProbeInterval: 50 * time.Millisecond, Ancestor: ancestor.http.URL}
	first := NewParent(parent.http.URL, opts)
	req := fetchers.Request{Image: "img", Digest: d, Size: int64(len(data))}

	dst := fetcherstest.NewBuffer(nil)
	err := first.Fetch(context.Background(), req, dst)
	if !errors.Is(err, ErrSlow) || fetchers.IsPermanent(err) {
		t.Fatalf("Fetch from the slow parent = %v, want retryable ErrSlow", err)
	}
	if off := dst.Offset(); off == 0 || off >= req.Size {
		t.Fatalf("left the slow parent at byte %d of %d, want in between", off, req.Size)
	}
	if !strings.Contains(err.Error(), parent.http.URL) || !strings.Contains(err.Error(), ancestor.http.URL) {
		t.Errorf("error %q names neither parent nor ancestor", err)
	}
	if err := NewParent(ancestor.http.URL, Options{PollInterval: 10 * time.Millisecond}).Fetch(context.Background(), req, dst); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.Bytes(), data) {
		t.Fatal("staged bytes differ from the blob")
	}
}

// TestParentOwnLinkSlowTakesTail: a child that receives far below what its
// parent receives (here the parent's upload limit plays the slow link)
// takes the rest from the tail, and the bytes are whole.
func TestParentOwnLinkSlowTakesTail(t *testing.T) {
	data, d := randomBlob(64<<20, 8)
	parent := landing(t, d, data, 1<<20, WithUploadLimit(4<<20))
	tail := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: int64(len(data))}))
	tail.content.add(d, data, len(data))
	var mu sync.Mutex
	var events []string
	opts := Options{PollInterval: 10 * time.Millisecond, ProbeInterval: 50 * time.Millisecond, Tail: tail.http.URL,
		OnEvent: func(_, msg string) { mu.Lock(); events = append(events, msg); mu.Unlock() }}
	fetchWhole(t, NewParent(parent.http.URL, opts), d, data)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(events, "\n"), "from the chain's tail "+tail.http.URL) {
		t.Errorf("events %q do not say the tail took over", events)
	}
}

// TestParentInStepIsKept: a parent and ancestor growing together, with the
// child keeping up, are never judged slow.
func TestParentInStepIsKept(t *testing.T) {
	data, d := randomBlob(16<<20, 9)
	ancestor := landing(t, d, data, 256<<10)
	parent := landing(t, d, data, 256<<10)
	tail := newTestPeer(t)
	opts := Options{PollInterval: 10 * time.Millisecond, ProbeInterval: 50 * time.Millisecond,
		Ancestor: ancestor.http.URL, Tail: tail.http.URL}
	fetchWhole(t, NewParent(parent.http.URL, opts), d, data)
}

// fetchWhole fetches d with p into an empty buffer, which must end up
// holding data.
func fetchWhole(t *testing.T, p *Parent, d digest.Digest, data []byte) {
	t.Helper()
	dst := fetcherstest.NewBuffer(nil)
	if err := p.Fetch(context.Background(), fetchers.Request{Image: "img", Digest: d, Size: int64(len(data))}, dst); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.Bytes(), data) {
		t.Fatal("staged bytes differ from the blob")
	}
}

// TestHeadSaysHave: every HEAD answer carries what the host holds, also
// when the blob is complete.
func TestHeadSaysHave(t *testing.T) {
	data, d := randomBlob(1<<20, 10)
	p := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: int64(len(data))}))
	for _, have := range []int{0, 1000, len(data)} {
		p.content.add(d, data, have)
		got := NewParent(p.http.URL, Options{}).holds(context.Background(), p.http.URL,
			fetchers.Request{Digest: d, Size: int64(len(data))}, time.Second)
		if !got.ok || got.have != int64(have) {
			t.Errorf("holding %d bytes: HEAD says %+v", have, got)
		}
	}
}
