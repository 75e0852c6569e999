package torrent

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anacrolix/torrent"
)

// A gate decides when a host may ask the swarm for a piece, so that a piece
// few peers hold spreads like a tree instead of a star.
//
// A BitTorrent client asks for the rarest pieces first, and anacrolix
// uploads to every peer that asks. A piece that one host just brought in
// (from the origin, or a seed's first copy) is the rarest piece of the
// swarm: every other host asks that one host for it, its link is shared 31
// ways, and the piece reaches all of them at the same time, a whole piece
// time later. Until then nobody else can pass it on.
//
// The gate spreads it in generations instead. The prestaged hosts still
// fetching rank each other for every piece by the same rendezvous hashing
// as the origin's owners (rank 0 is the piece's origin owner). A host of
// rank r asks for piece p once r < (1+gateFanOut) × a, where a is the
// number of peers holding p: each holder feeds gateFanOut hosts at a time
// at a good share of its link, and those then feed the next. Holders other
// than ranked hosts (seeds, other clients) count too, so a seed opens the
// gate for more hosts at once.
//
// The gate only ever opens, and it doubles its limit every doubling period
// that a piece has had a holder (doublingPeriod): hosts that see different
// peers, or a holder that is slow to pass the piece on, delay a piece and
// never stop it.
type gate struct {
	t    *torrent.Torrent
	b    *backing
	v    *view
	self torrent.PeerID

	opened    []bool      // the piece's priority was raised from none
	heldSince []time.Time // when a peer was first seen holding the piece
	closed    int         // pieces not opened yet
	count     []int       // holders per piece at the last step
	ids       []torrent.PeerID
	ranks     []int // self's rank per piece among ids
	// pieceTime is the swarm's piece time (originFeed.pieceTime): 0 while
	// unknown, and always 0 for a fetch without an origin. nil counts as 0.
	pieceTime func() time.Duration
}

const (
	// gateFanOut is how many new hosts each holder of a piece feeds at once.
	// Measured at N=32 (256 MiB, 100 Mbit): 1 gave 2.31-2.33x, 2 gave
	// 2.23-2.74x, 5 gave 2.21-2.40x, 10 gave 2.20-2.46x, and 31 (no gate
	// once a piece has a holder) 2.43-2.57x. Between 2 and 10 the runs'
	// spread hides any difference (2 and 5 interleaved: 2.33-2.40x both);
	// the gate itself is what counts. At 25 Mbit, with the doubling every
	// gateDoublingPieces, 1 took 1.73x and no gate 1.81x (the origin sending
	// 1.35x the image), within the 1.64-1.81x that 5 took.
	gateFanOut = 5
	// gateDoubling is how often, at least, the gate doubles its limit for
	// a piece that has a holder.
	gateDoubling = 2 * time.Second
	// gateDoublingPieces is the doubling period in piece times, where the
	// swarm's piece time is known: twice what a taker needs to get a piece
	// at a 1/(1+gateFanOut) share of its holder's link. Doubling sooner
	// opens a piece to every host before its first takers hold it: all of
	// them share its one holder's link and get it at the same time, as
	// from a star. At N=32, 25 Mbit (a piece time of 1.34 s), with the
	// doubling every 2 s the first piece took 18.9 s to reach a second
	// host and 28.9 s to reach all 32; with 12 piece times, 7.1 s and
	// 14.6 s (see doublingPeriod for the run times).
	gateDoublingPieces = 2 * (1 + gateFanOut)
	// gateTick is how often a fetch looks at what its peers hold.
	gateTick = 200 * time.Millisecond
)

func newGate(t *torrent.Torrent, b *backing, v *view) *gate {
	n := len(b.state)
	return &gate{t: t, b: b, v: v, self: v.self, opened: make([]bool, n), heldSince: make([]time.Time, n),
		closed: n, count: make([]int, n)}
}

// step opens the pieces this host may now ask the swarm for.
func (g *gate) step(now time.Time) {
	if g.closed == 0 {
		return
	}
	ids, seeds := g.v.look(now, g.count)
	if !slices.Equal(ids, g.ids) {
		g.ids = ids
		g.ranks = g.ranks[:0]
		for p := range g.opened {
			g.ranks = append(g.ranks, rank(g.self, ids, p))
		}
	}
	period := g.doublingPeriod()
	var open []int
	wanted := false // some piece is open and still missing
	anchor := -1    // the closed missing piece of lowest rank
	g.b.mu.Lock()
	for p := range g.opened {
		if g.opened[p] {
			wanted = wanted || g.b.state[p] != pieceComplete
			continue
		}
		if g.b.state[p] == pieceComplete {
			g.opened[p] = true // nothing to ask for; the piece is served from here
			g.closed--
			continue
		}
		if anchor < 0 || g.below(p, anchor) {
			anchor = p
		}
		a := g.count[p] + seeds
		if a == 0 {
			continue // nobody holds it yet: the origin brings it in
		}
		if g.heldSince[p].IsZero() {
			g.heldSince[p] = now
		}
		if g.ranks[p] < gateLimit(a, now.Sub(g.heldSince[p]), period) {
			g.opened[p] = true
			g.closed--
			open = append(open, p)
		}
	}
	if !wanted && len(open) == 0 && anchor >= 0 {
		// anacrolix connects to peers only for a torrent that wants a
		// piece, and a host with nothing open would idle: one piece, its
		// own by rank, stays open.
		g.opened[anchor] = true
		g.closed--
		open = append(open, anchor)
	}
	g.b.mu.Unlock()
	for _, p := range open { // SetPriority takes the client's lock
		if pc := g.t.Piece(p); pc.State().Priority == torrent.PiecePriorityNone {
			pc.SetPriority(torrent.PiecePriorityNormal)
		}
	}
}

// gateLimit is how many hosts, by rank, may ask for a piece that holders
// peers hold and first held heldFor ago, when the limit doubles every
// period.
func gateLimit(holders int, heldFor, period time.Duration) int {
	return (1 + gateFanOut) * holders << min(heldFor/period, 20)
}

// doublingPeriod is how often the gate doubles its limits: gateDoubling,
// or gateDoublingPieces piece times where that is longer. At 100 Mbit a
// piece time is 0.34 s, and the 2 s are six of them; at 25 Mbit, 1.34 s,
// and the 2 s were not even two. Measured at N=32, 25 Mbit, 256 MiB, in
// runs taken in turns on one machine: 2 s took 1.73-1.83x (mean 1.78x,
// 4 runs), the mirror sending 1.24x the image; 12 piece times 1.64-1.76x
// (mean 1.69x, 5 runs), the mirror 1.11x. 24 piece times took 1.65x and
// 1.82x, 6 piece times 1.77x, fan-out 3 with 12 piece times 1.71x.
func (g *gate) doublingPeriod() time.Duration {
	if g.pieceTime == nil {
		return gateDoubling
	}
	return max(gateDoubling, gateDoublingPieces*g.pieceTime())
}

// below orders pieces by this host's rank for them, then by its rendezvous
// score: the pieces it is first in line for come first.
func (g *gate) below(p, q int) bool {
	if g.ranks[p] != g.ranks[q] {
		return g.ranks[p] < g.ranks[q]
	}
	return score(g.self, p) < score(g.self, q)
}

// A view is what a fetch last saw of its swarm (lookAround), shared by its
// gate and its origin feed and taken at most once a viewAge. Each look
// copies every peer's piece bitmap. At N=32, 25 Mbit, on two cores, the
// gate's and the origin feed's own looks (15 a second) took 5.4% of the
// hosts' CPU profile; shared, 2.6%.
type view struct {
	self   torrent.PeerID
	around func(count []int) ([]torrent.PeerID, int) // lookAround

	mu    sync.Mutex
	at    time.Time
	ids   []torrent.PeerID
	seeds int
	count []int
}

// viewAge is how old a view may be when it is used again: the gate's tick.
// The origin feed's decisions take seconds.
const viewAge = gateTick

func newView(t *torrent.Torrent, self torrent.PeerID, pieces int) *view {
	around := func(count []int) ([]torrent.PeerID, int) { return lookAround(t, self, count) }
	return &view{self: self, around: around, count: make([]int, pieces)}
}

// look is lookAround's answer, at most viewAge old; count receives the
// holders per piece and ids is the caller's to keep.
func (v *view) look(now time.Time, count []int) (ids []torrent.PeerID, seeds int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ids == nil || now.Sub(v.at) >= viewAge || now.Before(v.at) {
		v.ids, v.seeds = v.around(v.count)
		v.at = now
	}
	copy(count, v.count)
	return slices.Clone(v.ids), v.seeds
}

// lookAround is what a fetch sees of its swarm: the peer IDs of the
// prestaged hosts still fetching (self included; other clients never read
// from the origin and are not ranked), sorted, and in count the number of
// peers holding each piece, seeds (peers holding every piece) apart.
func lookAround(t *torrent.Torrent, self torrent.PeerID, count []int) (ids []torrent.PeerID, seeds int) {
	n := uint64(len(count))
	clear(count)
	ids = append(ids, self)
	for _, pc := range t.PeerConns() {
		pp := pc.PeerPieces()
		if pp.GetCardinality() >= n {
			seeds++
			continue
		}
		if strings.HasPrefix(string(pc.PeerID[:]), PeerIDPrefix) && !slices.Contains(ids, pc.PeerID) {
			ids = append(ids, pc.PeerID)
		}
		for it := pp.Iterator(); it.HasNext(); {
			if p := it.Next(); uint64(p) < n {
				count[p]++
			}
		}
	}
	slices.SortFunc(ids, func(a, b torrent.PeerID) int { return strings.Compare(string(a[:]), string(b[:])) })
	return ids, seeds
}
