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
// request at it, some 30 at N=32. A piece that one host has just brought in
// is then passed on at a thirtieth of that host's link: at 10 Mbit the last
// pieces the origin sent sat at their one holder for 50-85 s. anacrolix
// v1.61.0 has no per-connection choke to change that, so prestaged carries
// it a hook (third_party/README.md): before each block goes out, the
// connection asks rareFirst.delay, and a block held back is asked about
// again rareRetry later.
//
// A piece's class is how many peers hold it, up to the gate's rare limit
// (rareBelow); every piece at or above it is common. A block waits while a
// block of a rarer class went out less than rareHold ago, so a host's
// uplink carries its rarest pieces while anyone asks for them and the rest
// in the gaps. Strict order starves a host that is behind, though: all it
// asks for is common, and every holder has something rarer to send. At
// N=32, 10 Mbit one such host held 25 pieces at 200 s while the median held
// 32, and the run took 1.57x. A peer rareBehind pieces behind the median
// of this host's peers is therefore served at once.
//
// Measured at N=32, 256 MiB, 10 Mbit, torrent only, one run each (ratio to
// size/bandwidth; median host in brackets):
//
//	without it (HEAD before):         1.56x 1.56x 1.56x 1.62x
//	250 ms hold:                       1.52x (323 s) 1.53x (325 s)
//	1 s hold:                          1.57x (311 s)
//	1 s hold, 4 behind (this):         1.50x (313 s) 1.55x (312 s), and
//	                                   1.54x (324 s) in make bench-testbed
//	                                   beside aria2c's 2.42x
//	1 s hold, 2 behind:                1.53x (320 s)
//	250 ms hold, 4 behind:             1.55x (330 s)
//
// Every variant beat the runs without it, by about 0.04x on average; the
// runs' spread (about ±0.03x) hides the differences between them. The
// 1 s hold gives the best median host. With it a piece reached its second
// host a median 17 s after its first, against 30-34 s, and 1.6% of the
// blocks received were unwanted, against 2.6-3.7%. The apply's peak RSS
// rose from 110-120 MiB to 150-167 MiB (p50; max 195 MiB): blocks held
// back stay read.
//
// Also tried, one run each, on an evening when this took 1.47x to 1.56x
// (four runs): at most 4 connections sent blocks at once, BitTorrent's
// upload slots, took 1.68x and still lost 9.4% at the switch (not traced:
// a request a peer holds outside its slots waits there rather than going
// elsewhere); holding common blocks for peers 2 pieces ahead of the median
// of the peers still fetching, to hold back the leaders and let the last
// hosts catch up, took 1.53x with the last host 8.5 s after the median.
// Serving a rare piece's takers one at a time (a block for another taker
// waited while the last taker to get one had got it within 150 ms), so that
// a piece's first copy goes out at the full link: 1.60x, the hosts'
// downlinks 70% busy mid-run against 80%.
type rareFirst struct {
	class  atomic.Pointer[[]uint8]                    // per piece held here; rareCommon if common
	sent   [rareClasses]atomic.Int64                  // Unix ns of the last block sent, per class
	behind atomic.Pointer[map[*torrent.PeerConn]bool] // peers served at once
}

const (
	// rareClasses: pieces held by 0 to rareClasses-2 peers have a class of
	// their own; rareCommon is the rest.
	rareClasses = 9
	rareCommon  = rareClasses - 1
	// rareHold is how long after a block of a rarer class a block waits.
	// 250 ms let common blocks into the gaps between a taker's requests
	// (1.52-1.53x); 1 s kept them out (see above).
	rareHold = time.Second
	// rareRetry is how soon a connection with blocks held back asks again.
	// Each ask wakes the connection's writer: the hosts' CPU rose from
	// 11-15 s to 14-16 s each at 20-50 ms.
	rareRetry = 50 * time.Millisecond
	// rareBehind is how many pieces behind the median peer a peer is served
	// without waiting.
	rareBehind = 4
)

// update classes the pieces this host holds from view v, and finds the
// peers behind. count is scratch space, one per piece.
func (r *rareFirst) update(now time.Time, v *view, b *backing, count []int) {
	ids, seeds := v.look(now, count)
	limit := rareBelow(len(ids))
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
	behind := v.behind(now, rareBehind)
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
		if now-r.sent[k].Load() < int64(rareHold) {
			return rareRetry
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
