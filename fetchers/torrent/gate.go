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
// The gate only ever opens. In a swarm without an origin it doubles its
// limit every doubling period that a piece has had a holder
// (doublingPeriod): hosts that see different peers, or a holder that is
// slow to pass the piece on, delay a piece and never stop it. Where the
// origin feeds the swarm it does not: the origin reads again a piece whose
// holder left, and a host with nothing open opens a piece of its own.
//
// A piece few peers hold is asked for before any other (rare), and while a
// host misses such pieces it asks the peers that hold none of them for one
// block at a time (throttle), so that the few flows that carry rare pieces
// get most of its downlink rather than a twentieth of it.
type gate struct {
	t    *torrent.Torrent
	b    *backing
	v    *view
	self torrent.PeerID

	opened    []bool      // the piece's priority was raised from none
	high      []bool      // the piece is rare: asked for at high priority
	heldSince []time.Time // when a peer was first seen holding the piece
	closed    int         // pieces not opened yet
	count     []int       // holders per piece at the last step
	ids       []torrent.PeerID
	ranks     []int // self's rank per piece among ids
	// fed: the origin feeds the swarm, and the limit never doubles.
	fed bool
	// throttle, when set, is told which of the torrent's connections to
	// hold to one outstanding request (Swarm.throttle).
	throttle func(pc *torrent.PeerConn, on bool)
}

const (
	// gateFanOut is how many new hosts each holder of a piece feeds at once.
	// Measured at N=32 (256 MiB, 100 Mbit): 1 gave 2.31-2.33x, 2 gave
	// 2.23-2.74x, 5 gave 2.21-2.40x, 10 gave 2.20-2.46x, and 31 (no gate
	// once a piece has a holder) 2.43-2.57x. Between 2 and 10 the runs'
	// spread hides any difference (2 and 5 interleaved: 2.33-2.40x both);
	// the gate itself is what counts. At 25 Mbit, with the doubling every
	// gateDoublingPieces, 1 took 1.73x and no gate 1.81x (the origin sending
	// 1.35x the image), within the 1.64-1.81x that 5 took. At 10 Mbit, with
	// the upload order (rareFirst), one run each in the same hour: 1 took
	// 1.62x, its hosts' downlinks 72% busy mid-run against 84%; 2 took
	// 1.53x and 5 1.52x. A fan-out of 1 only while the host holds fewer
	// than 8 pieces, so that the first pieces spread by doubling, took
	// 1.54x: the hosts held as many pieces at 40, 60 and 80 s as with 5
	// throughout (2.8, 4.9, 8.2 on average against 2.3, 5.0, 8.4), as the
	// mirror's first pieces, not their spreading, set that pace.
	gateFanOut = 5
	// gateDoubling is how often the gate doubles its limit for a piece
	// that has a holder, in a swarm without an origin.
	gateDoubling = 2 * time.Second
	// gateRarePart: a piece fewer than this part of the ranked hosts hold
	// (at least 2) is rare. anacrolix asks for pieces by priority, then
	// partial ones first, then rarest first, so without a higher priority
	// a taker asks a piece's one holder for blocks of the common pieces it
	// has started. Measured at N=32, 10 Mbit, 256 MiB (one run each, the
	// same hour): HEAD 1.68x and 1.62x; without the doubling where the
	// origin feeds 1.61x; with rare pieces first and the throttle too
	// 1.56x. A new piece then took a median 32 s to reach a second host,
	// against 40-52 s.
	gateRarePart = 4
	// gateTick is how often a fetch looks at what its peers hold.
	gateTick = 200 * time.Millisecond
)

func newGate(t *torrent.Torrent, b *backing, v *view) *gate {
	n := len(b.state)
	return &gate{t: t, b: b, v: v, self: v.self, opened: make([]bool, n), high: make([]bool, n), heldSince: make([]time.Time, n),
		closed: n, count: make([]int, n)}
}

// step opens the pieces this host may now ask the swarm for.
//
// Once every piece is open the gate stops stepping, and the priorities and
// throttles of its last step stay until the fetch ends. Stepping on until
// no piece is rare, which lifts those throttles, took 1.69x at N=32, 10
// Mbit (one run) against 1.56x in three runs without: not understood yet.
// With the upload order (rareFirst), one run each in the same hour:
// stepping on 1.54x, lifting every throttle once all pieces are open
// 1.58x, and neither (this) 1.52x.
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
	rare := rareBelow(len(ids))
	var raise, lower, want []int
	g.b.mu.Lock()
	for p := range g.opened {
		if g.opened[p] {
			missing := g.b.state[p] != pieceComplete
			wanted = wanted || missing
			h := missing && g.count[p]+seeds < rare
			switch {
			case h && !g.high[p]:
				raise = append(raise, p)
			case !h && g.high[p] && missing:
				lower = append(lower, p)
			}
			g.high[p] = h
			if h {
				want = append(want, p)
			}
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
	for _, p := range raise {
		g.t.Piece(p).SetPriority(torrent.PiecePriorityHigh)
	}
	for _, p := range lower {
		g.t.Piece(p).SetPriority(torrent.PiecePriorityNormal)
	}
	g.throttleFor(want)
}

// throttleFor holds the connections to peers that hold none of the rare
// pieces this host misses (want) to one outstanding request, and lets the
// others have their usual number.
func (g *gate) throttleFor(want []int) {
	if g.throttle == nil {
		return
	}
	for _, pc := range g.t.PeerConns() {
		on := len(want) > 0
		if on {
			pp := pc.PeerPieces()
			for _, p := range want {
				if pp.Contains(uint32(p)) {
					on = false
					break
				}
			}
		}
		g.throttle(pc, on)
	}
}

// rareBelow is the number of holders, among ranked hosts still fetching,
// below which a piece is rare.
func rareBelow(ranked int) int { return max(2, ranked/gateRarePart) }

// gateLimit is how many hosts, by rank, may ask for a piece that holders
// peers hold and first held heldFor ago, when the limit doubles every
// period (0: never).
func gateLimit(holders int, heldFor, period time.Duration) int {
	if period <= 0 {
		return (1 + gateFanOut) * holders
	}
	return (1 + gateFanOut) * holders << min(heldFor/period, 20)
}

// doublingPeriod is how often the gate doubles its limits: gateDoubling,
// and never (0) where the origin feeds the swarm.
//
// With an origin the period was twice what a taker needs to get a piece at
// a 1/(1+gateFanOut) share of its holder's link (12 piece times). At N=32,
// 25 Mbit, 256 MiB that took 1.64-1.76x (mean 1.69x, 5 runs) against
// 1.73-1.83x for 2 s. At 10 Mbit, though, the doubling opened the last
// pieces the origin sent to every host while one host held each: all 31
// shared that host's link and got the piece together, 100-120 s after it
// came in, with every other link idle for the last 20-40 s of the run.
// Without it: see gateRarePart. Not measured again at 25 Mbit.
func (g *gate) doublingPeriod() time.Duration {
	if g.fed {
		return 0
	}
	return gateDoubling
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
// gate, its origin feed and its upload order, and taken at most once a
// viewAge. Each look copies every peer's piece bitmap. At N=32, 25 Mbit, on
// two cores, the gate's and the origin feed's own looks (15 a second) took
// 5.4% of the hosts' CPU profile; shared, 2.6%.
type view struct {
	self   torrent.PeerID
	around func(count []int, have map[*torrent.PeerConn]int) ([]torrent.PeerID, int) // lookAround

	mu    sync.Mutex
	at    time.Time
	ids   []torrent.PeerID
	seeds int
	count []int
	have  map[*torrent.PeerConn]int
	// med is how many pieces the median peer holds (0 without peers),
	// found once per look for behind and median.
	med int
}

// viewAge is how old a view may be when it is used again: the gate's tick.
// The origin feed's decisions take seconds.
const viewAge = gateTick

func newView(t *torrent.Torrent, self torrent.PeerID, pieces int) *view {
	around := func(count []int, have map[*torrent.PeerConn]int) ([]torrent.PeerID, int) {
		return lookAround(t, self, count, have)
	}
	return &view{self: self, around: around, count: make([]int, pieces), have: make(map[*torrent.PeerConn]int)}
}

// look is lookAround's answer, at most viewAge old; count receives the
// holders per piece and ids is the caller's to keep.
func (v *view) look(now time.Time, count []int) (ids []torrent.PeerID, seeds int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresh(now)
	copy(count, v.count)
	return slices.Clone(v.ids), v.seeds
}

// behind is the connections whose peers hold at least by pieces fewer than
// the median peer does, in a view at most viewAge old.
func (v *view) behind(now time.Time, by int) map[*torrent.PeerConn]bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresh(now)
	if len(v.have) == 0 {
		return nil
	}
	late := make(map[*torrent.PeerConn]bool)
	for pc, n := range v.have {
		if n+by <= v.med {
			late[pc] = true
		}
	}
	return late
}

// median is how many pieces the median peer holds, in a view at most
// viewAge old; ok is false without peers.
func (v *view) median(now time.Time) (n int, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresh(now)
	return v.med, len(v.have) > 0
}

// refresh looks around again if the view is older than viewAge; v.mu is
// held.
func (v *view) refresh(now time.Time) {
	if v.ids == nil || now.Sub(v.at) >= viewAge || now.Before(v.at) {
		clear(v.have)
		v.ids, v.seeds = v.around(v.count, v.have)
		v.at = now
		held := make([]int, 0, len(v.have))
		for _, n := range v.have {
			held = append(held, n)
		}
		slices.Sort(held)
		v.med = 0
		if len(held) > 0 {
			v.med = held[len(held)/2]
		}
	}
}

// lookAround is what a fetch sees of its swarm: the peer IDs of the
// prestaged hosts still fetching (self included; other clients never read
// from the origin and are not ranked), sorted, and in count the number of
// peers holding each piece, seeds (peers holding every piece) apart. have
// receives the pieces each connection's peer holds.
func lookAround(t *torrent.Torrent, self torrent.PeerID, count []int, have map[*torrent.PeerConn]int) (ids []torrent.PeerID, seeds int) {
	n := uint64(len(count))
	clear(count)
	ids = append(ids, self)
	for _, pc := range t.PeerConns() {
		pp := pc.PeerPieces()
		held := pp.GetCardinality()
		have[pc] = int(min(held, n))
		if held >= n {
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
