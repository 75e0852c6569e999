package peer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prestaged/prestaged/fetchers"
)

// ErrSlow: a parent delivers well below what the next ancestor shows it
// can. Retryable; the child moves on to its next parent at once, resuming
// from the bytes already staged.
var ErrSlow = errors.New("parent delivers well below its own parent")

// errOwnLinkSlow: the parent receives far faster than this host does, so
// this host's own link is the limit; it leaves the parent's uplink to the
// parent's other children and takes the rest from the chain's tail.
var errOwnLinkSlow = errors.New("this host receives well below its parent")

// The rules' thresholds (docs/protocol.md, "Slow hosts").
const (
	// DefaultProbeInterval is the window over which holdings are compared.
	DefaultProbeInterval = 2 * time.Second
	// slowFactor: "well below" is this many times slower. Along a chain
	// every host receives at one rate, and a host at a quarter of its link
	// below a parent whose own uplink is shared still shows a factor 3.
	slowFactor = 2
	// growthFloor is added to every "faster than" test, so that windows in
	// which nobody moves much decide nothing.
	growthFloor = 256 << 10
	// leadFloor: a host must hold this much more than another before taking
	// bytes from it instead gains anything.
	leadFloor = 2 << 20
	// verdictWindows: a verdict must hold this many windows in a row.
	verdictWindows = 2
)

// holding is what a probed host answered: the bytes it holds, or !ok when
// it did not answer (a dead host decides nothing; the stream's own error
// or the stall watch handles it).
type holding struct {
	have int64
	ok   bool
}

// snapshot is one probe of the parent, the next ancestor, the tail and
// this host.
type snapshot struct {
	parent, ancestor, tail holding
	mine                   int64
}

type verdict int

const (
	keep verdict = iota
	skipParent
	ownLinkSlow
)

// judge compares two snapshots a window apart. best is the fastest growth
// any host showed in any window so far: what a complete ancestor, which no
// longer grows, is taken to be able to send. Only a tail that holds more
// than this host is gone to: one that has not started, or that gets its
// bytes through this host, would not help.
func judge(prev, cur snapshot, size, best int64) verdict {
	if !prev.parent.ok || !cur.parent.ok || cur.parent.have >= size {
		return keep
	}
	parentGrew := cur.parent.have - prev.parent.have
	mineGrew := cur.mine - prev.mine
	if cur.tail.ok && cur.tail.have >= cur.mine+leadFloor &&
		parentGrew >= slowFactor*mineGrew+growthFloor && cur.parent.have >= cur.mine+leadFloor {
		return ownLinkSlow
	}
	if !prev.ancestor.ok || !cur.ancestor.ok || cur.ancestor.have < cur.parent.have+leadFloor {
		return keep
	}
	ancestorRate := cur.ancestor.have - prev.ancestor.have
	if cur.ancestor.have >= size {
		ancestorRate = best
	}
	if ancestorRate >= slowFactor*parentGrew+growthFloor {
		return skipParent
	}
	return keep
}

// growth is the largest growth between two snapshots.
func growth(prev, cur snapshot) int64 {
	g := cur.mine - prev.mine
	if prev.parent.ok && cur.parent.ok {
		g = max(g, cur.parent.have-prev.parent.have)
	}
	if prev.ancestor.ok && cur.ancestor.ok {
		g = max(g, cur.ancestor.have-prev.ancestor.have)
	}
	return g
}

// watched says whether a stream from this parent is judged: only a
// cut-through child with somewhere else to go.
func (p *Parent) watched() bool {
	return !p.opts.CompleteOnly && (p.opts.Ancestor != "" || p.opts.Tail != "")
}

// watch probes the parent, the next ancestor and the tail every window while a
// stream lasts, and cancels the stream with ErrSlow or errOwnLinkSlow as its
// cause once judge says so verdictWindows windows in a row. mine is this
// host's offset, kept by the stream. The returned stop ends the watch.
func (p *Parent) watch(ctx context.Context, cancel context.CancelCauseFunc, req fetchers.Request, mine *atomic.Int64) (stop func()) {
	if !p.watched() {
		return func() {}
	}
	every := p.opts.ProbeInterval
	if every <= 0 {
		every = DefaultProbeInterval
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		var best int64
		last, times := keep, 0
		prev := p.probe(ctx, req, mine.Load(), every)
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cur := p.probe(ctx, req, mine.Load(), every)
			best = max(best, growth(prev, cur))
			v := judge(prev, cur, req.Size, best)
			if v == last {
				times++
			} else {
				last, times = v, 1
			}
			if v != keep && times >= verdictWindows {
				cancel(p.why(v, prev, cur, every, req.Size))
				return
			}
			prev = cur
		}
	}()
	return func() { close(done); wg.Wait() }
}

// why is the cause a verdict cancels the stream with, with the figures.
func (p *Parent) why(v verdict, prev, cur snapshot, every time.Duration, size int64) error {
	parentGrew := cur.parent.have - prev.parent.have
	if v == ownLinkSlow {
		return fmt.Errorf("parent %s grew %d bytes in %s, this host only %d: %w",
			p.addr, parentGrew, every, cur.mine-prev.mine, errOwnLinkSlow)
	}
	return fmt.Errorf("parent %s grew %d bytes in %s, its parent %s %d (holding %d of %d): %w",
		p.addr, parentGrew, every, p.opts.Ancestor, cur.ancestor.have-prev.ancestor.have, cur.ancestor.have, size, ErrSlow)
}

// probe asks the parent, the next ancestor and the tail what they hold,
// each within one window.
func (p *Parent) probe(ctx context.Context, req fetchers.Request, mine int64, every time.Duration) snapshot {
	s := snapshot{mine: mine}
	var wg sync.WaitGroup
	ask := func(addr string, h *holding) {
		defer wg.Done()
		if addr != "" {
			*h = p.holds(ctx, addr, req, every)
		}
	}
	wg.Add(3)
	go ask(p.addr, &s.parent)
	go ask(p.opts.Ancestor, &s.ancestor)
	go ask(p.opts.Tail, &s.tail)
	wg.Wait()
	return s
}

// holds sends HEAD to a host for the blob and reads X-Prestaged-Have,
// which a server sets on every HEAD answer.
func (p *Parent) holds(ctx context.Context, addr string, req fetchers.Request, timeout time.Duration) holding {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodHead, blobURL(addr, req.Digest, false), nil)
	if err != nil {
		return holding{}
	}
	resp, err := p.opts.Client.Do(hreq)
	if err != nil {
		return holding{}
	}
	resp.Body.Close()
	have, err := strconv.ParseInt(resp.Header.Get(HeaderHave), 10, 64)
	if err != nil || have < 0 || have > req.Size {
		return holding{}
	}
	return holding{have: have, ok: true}
}
