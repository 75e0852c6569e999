package torrent

import (
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent"
)

// rareFirst orders what a fetching host uploads: blocks of the pieces that
// fewest peers hold go out first, and blocks for a peer far behind the
// others go out at once.
//
// anacrolix sends each connection the blocks its peer asked for as soon as
// they are read, so a host's uplink is shared by every connection with a
// request at it, and a piece one host just brought in is passed on at a
// fraction of its link. anacrolix v1.61.0 has no per-connection choke to
// change that, so prestaged carries it a hook (third_party/README.md):
// before each block goes out, the connection asks rareFirst.delay, and a
// block held back is asked about again Config.RareRetry later.
//
// A piece's class is how many peers hold it, up to the gate's rare limit
// (rareBelow); every piece at or above it is common. A block waits while a
// block of a rarer class went out less than Config.RareHold ago, so a
// host's uplink carries its rarest pieces while anyone asks for them and
// the rest in the gaps. Strict order would starve a host that is behind,
// as all it asks for is common, so a peer Config.RareBehind pieces behind
// the median of this host's peers is served at once. docs/swarm.md has the
// runs behind these choices.
type rareFirst struct {
	cfg    *Config
	class  atomic.Pointer[[]uint8]                    // per piece held here; rareCommon if common
	sent   [rareClasses]atomic.Int64                  // Unix ns of the last block sent, per class
	behind atomic.Pointer[map[*torrent.PeerConn]bool] // peers served at once
}

// rareClasses: pieces held by 0 to rareClasses-2 peers have a class of
// their own; rareCommon is the rest. A constant: it sizes rareFirst.sent.
const (
	rareClasses = 9
	rareCommon  = rareClasses - 1
)

// update classes the pieces this host holds from view v, and finds the
// peers behind. count is scratch space, one per piece.
func (r *rareFirst) update(now time.Time, v *view, b *backing, count []int) {
	ids, seeds := v.look(now, count)
	limit := rareBelow(r.cfg, len(ids))
	class := make([]uint8, len(count))
	b.mu.Lock()
	for p := range class {
		class[p] = rareCommon
		if a := count[p] + seeds; b.state[p] == pieceComplete && a < limit {
			class[p] = uint8(min(a, rareCommon-1))
		}
	}
	b.mu.Unlock()
	r.class.Store(&class)
	behind := v.behind(now, r.cfg.RareBehind)
	r.behind.Store(&behind)
}

// delay is how long a block of piece p for pc waits, asked at now (Unix
// ns) under the client lock. A block that goes out is counted as sent.
func (r *rareFirst) delay(pc *torrent.PeerConn, p int, now int64) time.Duration {
	if m := r.behind.Load(); m != nil && (*m)[pc] {
		return 0
	}
	c := rareCommon
	if cl := r.class.Load(); cl != nil && p < len(*cl) {
		c = int((*cl)[p])
	}
	for k := range c {
		if now-r.sent[k].Load() < int64(r.cfg.RareHold) {
			return r.cfg.RareRetry
		}
	}
	r.sent[c].Store(now)
	return 0
}

// uploadDelay is the client's UploadChunkDelay: the order of the fetch that
// pc's torrent belongs to, if any (a seeded image sends in anacrolix's
// order).
func (s *Swarm) uploadDelay(pc *torrent.PeerConn, req torrent.Request) time.Duration {
	v, ok := s.rare.Load(pc.Torrent())
	if !ok {
		return 0
	}
	return v.(*rareFirst).delay(pc, int(req.Index), time.Now().UnixNano())
}
