package torrent

import (
	"encoding/binary"
	"time"

	"github.com/anacrolix/torrent"
	"golang.org/x/time/rate"
)

// The swarm's decisions, as pure functions of what a fetch saw (a snapshot
// with no client in it) and the Config: who owns a piece (rank), when a
// host may ask for one (gateStep), how long the origin's owners get
// (originWait, windowSize) and when uploads are paced (paceCap). The
// stall patience is in patience.go. The glue around them (gate.go,
// origin.go, pace.go, fetch.go) looks at the client and applies what they
// decide.

// rank is self's place among ids for piece p: 0 for the owner. Every host
// computes the same ranks from the same ids (rendezvous hashing).
func rank(self torrent.PeerID, ids []torrent.PeerID, p int) int {
	mine := score(self, p)
	r := 0
	for _, id := range ids {
		if id == self {
			continue
		}
		if s := score(id, p); s < mine || s == mine && string(id[:]) < string(self[:]) {
			r++
		}
	}
	return r
}

// score hashes a peer ID with a piece index, the same on every host.
func score(id torrent.PeerID, p int) uint64 {
	var b [28]byte
	copy(b[:], id[:])
	binary.BigEndian.PutUint64(b[20:], uint64(p))
	return mix64(fnv64a(b[:]))
}

func fnv64a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// mix64 is splitmix64's finaliser: FNV alone lets peer IDs that share a
// client prefix rank the same way for every piece.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// ownerTurn reports whether the host of rank r for a piece reads it from
// the origin, the piece having waited waited in the window: the owner
// (rank 0) at once, each next host in rank one wait later, so a dead or
// slow owner delays a piece and does not stop it.
func ownerTurn(r int, waited, wait time.Duration) bool {
	return waited >= time.Duration(r)*wait
}

// gateView is one look at the swarm, as the gate decides from it.
type gateView struct {
	now      time.Time
	self     torrent.PeerID
	count    []int  // peers holding each piece, seeds apart
	seeds    int    // peers holding every piece
	complete []bool // the piece is complete here
	ranks    []int  // self's rank per piece among the ranked hosts
	ranked   int    // prestaged hosts still fetching, self included
	fed      bool   // the origin feeds the swarm
}

// gateState is what the gate remembers from step to step.
type gateState struct {
	opened    []bool      // the piece's priority was raised from none
	high      []bool      // the piece is rare: asked for at high priority
	heldSince []time.Time // when a peer was first seen holding the piece
	closed    int         // pieces not opened yet
}

func newGateState(pieces int) gateState {
	return gateState{opened: make([]bool, pieces), high: make([]bool, pieces), heldSince: make([]time.Time, pieces), closed: pieces}
}

// gateMoves is what one step of the gate changes: pieces to open, to raise
// to high priority (rare) and to lower again, and the rare pieces this
// host misses (want), whose holders' connections keep their requests.
type gateMoves struct {
	open, raise, lower, want []int
}

// gateStep opens the pieces this host may now ask the swarm for, and
// classes the open ones rare or not. One piece, this host's own by rank,
// is always open: anacrolix connects to peers only for a torrent that wants
// a piece, and a host with nothing open would idle.
func gateStep(cfg *Config, st *gateState, v gateView) gateMoves {
	var m gateMoves
	period := gatePeriod(cfg, v.fed)
	rare := rareBelow(cfg, v.ranked)
	wanted := false // some piece is open and still missing
	anchor := -1    // the closed missing piece of lowest rank
	for p := range st.opened {
		switch {
		case st.opened[p]:
			wanted = gateClass(st, v, p, rare, &m) || wanted
		case v.complete[p]:
			st.opened[p] = true // nothing to ask for; the piece is served from here
			st.closed--
		default:
			if anchor < 0 || gateBelow(v, p, anchor) {
				anchor = p
			}
			if gateOpens(cfg, st, v, p, period) {
				st.opened[p] = true
				st.closed--
				m.open = append(m.open, p)
			}
		}
	}
	if !wanted && len(m.open) == 0 && anchor >= 0 {
		st.opened[anchor] = true
		st.closed--
		m.open = append(m.open, anchor)
	}
	return m
}

// gateClass classes open piece p rare or not (fewer than rare holders),
// recording the change in m, and reports whether p is still missing.
func gateClass(st *gateState, v gateView, p, rare int, m *gateMoves) (missing bool) {
	missing = !v.complete[p]
	h := missing && v.count[p]+v.seeds < rare
	switch {
	case h && !st.high[p]:
		m.raise = append(m.raise, p)
	case !h && st.high[p] && missing:
		m.lower = append(m.lower, p)
	}
	st.high[p] = h
	if h {
		m.want = append(m.want, p)
	}
	return missing
}

// gateOpens reports whether closed missing piece p opens now: some peer
// holds it (else the origin brings it in) and self's rank is within
// gateLimit.
func gateOpens(cfg *Config, st *gateState, v gateView, p int, period time.Duration) bool {
	a := v.count[p] + v.seeds
	if a == 0 {
		return false
	}
	if st.heldSince[p].IsZero() {
		st.heldSince[p] = v.now
	}
	return v.ranks[p] < gateLimit(cfg, a, v.now.Sub(st.heldSince[p]), period)
}

// gateLimit is how many hosts, by rank, may ask for a piece that holders
// peers hold and first held heldFor ago, when the limit doubles every
// period (0: never).
func gateLimit(cfg *Config, holders int, heldFor, period time.Duration) int {
	limit := (1 + cfg.GateFanOut) * holders
	if period <= 0 {
		return limit
	}
	return limit << min(heldFor/period, 20)
}

// gatePeriod is how often the gate doubles its limits: GateDoubling, and
// never (0) where the origin feeds the swarm, where doubling opened the
// origin's last pieces to every host while one host held each.
func gatePeriod(cfg *Config, fed bool) time.Duration {
	if fed {
		return 0
	}
	return cfg.GateDoubling
}

// rareBelow is the number of holders, among ranked hosts still fetching,
// below which a piece is rare.
func rareBelow(cfg *Config, ranked int) int { return max(2, ranked/cfg.GateRarePart) }

// gateBelow orders pieces by this host's rank for them, then by its
// rendezvous score: the pieces it is first in line for come first.
func gateBelow(v gateView, p, q int) bool {
	if v.ranks[p] != v.ranks[q] {
		return v.ranks[p] < v.ranks[q]
	}
	return score(v.self, p) < score(v.self, q)
}

// windowSize is how many pieces nobody holds may be read from the origin
// at once, when held pieces are in the swarm: one at first, so that the
// first piece lands after one piece time, then two more per piece held, up
// to OriginWindow, to keep the origin's link full.
func windowSize(cfg *Config, held int) int {
	return min(cfg.OriginWindow, 1+2*held)
}

// originWait is how long each host ahead in rank gets to bring a piece in
// while w reads share the origin: the patience; at least twice what w
// reads of the shortest observed length (pieceTime) take together; and at
// least three times what w pieces take at the pace pieces have been
// coming in from the origin (interval). The pace is what the origin's link
// delivers with every read and duplicate on it, so the wait grows with
// reads instead of adding more.
func originWait(patience, pieceTime, interval time.Duration, w int) time.Duration {
	return max(patience, 2*time.Duration(w)*pieceTime, 3*time.Duration(w)*interval)
}

// paceCap is the upload cap a fetch asks of its swarm: PaceShare of its
// peak upload rate while it holds PaceBehind pieces fewer than its peers'
// median (ok: it has peers), else 0 (none).
func paceCap(cfg *Config, peak float64, mine, median int, ok bool) rate.Limit {
	if !ok || peak <= 0 || mine+cfg.PaceBehind > median {
		return 0
	}
	return rate.Limit(cfg.PaceShare * peak)
}
