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
// uploads to every peer that asks: a piece one host just brought in would
// be asked of that host by every other host at once, its link shared by all
// of them, and nobody could pass the piece on until all had it.
//
// The gate spreads it in generations instead (gateStep decides; the gate
// applies its decisions to the client). The prestaged hosts still fetching
// rank each other for every piece by the same rendezvous hashing as the
// origin's owners. A host of rank r asks for piece p once
// r < (1+GateFanOut) × a, where a is the number of peers holding p: each
// holder feeds GateFanOut hosts at a time, and those then feed the next.
// Holders other than ranked hosts (seeds, other clients) count too.
//
// The gate only ever opens. In a swarm without an origin the limit doubles
// every GateDoubling a piece has had a holder, so hosts that see different
// peers delay a piece and never stop it; where the origin feeds the swarm
// it does not, as the origin reads again a piece whose holder left.
//
// A piece few peers hold is asked for before any other (rare), and while a
// host misses such pieces it asks the peers that hold none of them for one
// block at a time (throttle), so that the few flows that carry rare pieces
// get most of its downlink.
type gate struct {
	cfg  *Config
	t    *torrent.Torrent
	b    *backing
	v    *view
	self torrent.PeerID

	st    gateState
	count []int // holders per piece at the last step
	ids   []torrent.PeerID
	ranks []int // self's rank per piece among ids
	// fed: the origin feeds the swarm, and the limit never doubles.
	fed bool
	// throttle, when set, is told which of the torrent's connections to
	// hold to one outstanding request (Swarm.throttle).
	throttle func(pc *torrent.PeerConn, on bool)
}

func newGate(cfg *Config, t *torrent.Torrent, b *backing, v *view) *gate {
	n := len(b.state)
	return &gate{cfg: cfg, t: t, b: b, v: v, self: v.self, st: newGateState(n), count: make([]int, n)}
}

// step looks at the swarm and applies gateStep's decisions: priorities set
// through the client, and throttles.
//
// Once every piece is open the gate stops stepping, and the priorities and
// throttles of its last step stay until the fetch ends: lifting them made
// the testbed slower (docs/swarm.md).
func (g *gate) step(now time.Time) {
	if g.st.closed == 0 {
		return
	}
	ids, seeds := g.v.look(now, g.count)
	if !slices.Equal(ids, g.ids) {
		g.ids = ids
		g.ranks = g.ranks[:0]
		for p := range g.count {
			g.ranks = append(g.ranks, rank(g.self, ids, p))
		}
	}
	gv := gateView{now: now, self: g.self, count: g.count, seeds: seeds, ranks: g.ranks, ranked: len(ids),
		fed: g.fed, complete: g.b.completed()}
	m := gateStep(g.cfg, &g.st, gv)
	for _, p := range m.open { // SetPriority takes the client's lock
		if pc := g.t.Piece(p); pc.State().Priority == torrent.PiecePriorityNone {
			pc.SetPriority(torrent.PiecePriorityNormal)
		}
	}
	for _, p := range m.raise {
		g.t.Piece(p).SetPriority(torrent.PiecePriorityHigh)
	}
	for _, p := range m.lower {
		g.t.Piece(p).SetPriority(torrent.PiecePriorityNormal)
	}
	g.throttleFor(m.want)
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

// A view is what a fetch last saw of its swarm (lookAround), shared by its
// gate, its origin feed and its upload order, and taken at most once an age
// (Config.GateTick): each look copies every peer's piece bitmap, which the
// hosts' CPU profile shows.
type view struct {
	self   torrent.PeerID
	age    time.Duration
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

// newView makes the view of t, reused for age: the gate's tick, as the
// origin feed's decisions take seconds.
func newView(t *torrent.Torrent, self torrent.PeerID, pieces int, age time.Duration) *view {
	around := func(count []int, have map[*torrent.PeerConn]int) ([]torrent.PeerID, int) {
		return lookAround(t, self, count, have)
	}
	return &view{self: self, age: age, around: around, count: make([]int, pieces), have: make(map[*torrent.PeerConn]int)}
}

// look is lookAround's answer, at most v.age old; count receives the
// holders per piece and ids is the caller's to keep.
func (v *view) look(now time.Time, count []int) (ids []torrent.PeerID, seeds int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresh(now)
	copy(count, v.count)
	return slices.Clone(v.ids), v.seeds
}

// behind is the connections whose peers hold at least by pieces fewer than
// the median peer does, in a view at most v.age old.
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

// median is how many pieces the median peer holds, in a view at most v.age
// old; ok is false without peers.
func (v *view) median(now time.Time) (n int, ok bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresh(now)
	return v.med, len(v.have) > 0
}

// refresh looks around again if the view is older than v.age; v.mu is
// held.
func (v *view) refresh(now time.Time) {
	if v.ids == nil || now.Sub(v.at) >= v.age || now.Before(v.at) {
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
