package torrent

import (
	"math/rand/v2"

	"github.com/anacrolix/torrent"
)

// picker chooses which pieces a fetch asks the swarm for first. anacrolix
// orders requests by priority, then rarest first, then by index: at the
// start of a rollout every piece is as rare as every other (only the first
// seed has them), so every host would ask the seed for piece 0, then 1, and
// the seed would send the same pieces many times over. A picker raises a
// window of pieces to high priority, taken in its own order, and raises
// the next one as they land. In random order (the default) hosts ask the
// seed for different pieces and then trade them; in index order (InOrder)
// a host's complete prefix, all its cut-through children can stream, keeps
// growing. Pieces outside the window stay rarest first.
type picker struct {
	order  []int // piece indices in the order they are raised
	next   int   // order[next:] are not raised yet
	window int
	raised []int // raised and missing when last looked at
}

func newPicker(pieces, window int, inOrder bool) *picker {
	p := &picker{window: window}
	if inOrder {
		p.order = make([]int, pieces)
		for i := range p.order {
			p.order[i] = i
		}
	} else {
		p.order = rand.Perm(pieces)
	}
	return p
}

// raise tops the window up with pieces b still misses.
func (p *picker) raise(t *torrent.Torrent, b *backing) {
	for _, i := range p.refill(b) { // SetPriority takes the client's lock
		t.Piece(i).SetPriority(torrent.PiecePriorityHigh)
	}
}

// refill forgets raised pieces that landed and returns those it adds to
// the window.
func (p *picker) refill(b *backing) (add []int) {
	if p == nil || p.window <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	missing := func(i int) bool { return b.state[i] != pieceComplete }
	kept := p.raised[:0]
	for _, i := range p.raised {
		if missing(i) {
			kept = append(kept, i)
		}
	}
	p.raised = kept
	for len(p.raised) < p.window && p.next < len(p.order) {
		if i := p.order[p.next]; missing(i) {
			p.raised = append(p.raised, i)
			add = append(add, i)
		}
		p.next++
	}
	return add
}
