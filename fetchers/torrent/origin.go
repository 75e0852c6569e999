package torrent

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/internal/safe"
)

// Origin reads len(p) bytes of the image at off from outside the swarm:
// the image's mirror (mirror.Mirror.ReadAt). Errors are classed as a
// Fetcher's: fetchers.IsPermanent ones stop the swarm asking it again.
type Origin func(ctx context.Context, req fetchers.Request, p []byte, off int64) error

// WithOrigin returns a copy of f that brings the pieces no peer holds into
// the swarm from origin, the image's mirror acting as the swarm's first
// seed (a web seed, BEP 19's idea). Unlike a BitTorrent seed, which sends
// the rarest pieces to every peer that asks and so sends most of them
// several times, the origin is asked for each piece by one host:
//
//   - Ownership: the hosts of the swarm rank each other for every piece by
//     rendezvous hashing of their peer IDs, so every host computes the same
//     owner without talking. The owner fetches the piece with one ranged GET,
//     checks its SHA-1 like any piece and announces it; the others get it
//     from the swarm.
//   - Pace: only the first originWindow pieces that no peer holds may be
//     in flight from the origin, in index order, so the origin's link
//     carries a few pieces at full speed rather than every piece slowly,
//     and the swarm trades what arrived while the next pieces come.
//   - Failure: a piece still missing after the patience goes to the host
//     ranked next, and so on, so a dead or slow owner delays a piece and
//     does not stop it. A seed in the swarm (a peer holding every piece)
//     holds every piece: then the origin is not asked at all.
//
// Ranks agree while every host sees the same peers, which anacrolix's 50
// connections per torrent allow up to about 50 hosts in one swarm; larger
// swarms get a few duplicate origin reads per piece.
func (f *Fetcher) WithOrigin(o Origin) *Fetcher {
	g := *f
	g.origin = o
	return &g
}

const (
	// originWindow is how many pieces no peer holds may be in flight from
	// the origin at once (4 MiB pieces: 32 MiB). An owner's read shares its
	// host's downlink with what its peers send, so a few reads alone leave
	// the origin's link part idle. Measured at N=32 (256 MiB, 100 Mbit):
	// with 4 the origin sent its last piece at 34 s, with 8 at 28-32 s and
	// 2.21-2.27x against 2.48x in the same period; 12 and 16 made hosts
	// read the same pieces twice (1.25x and 1.60x the image from the
	// origin) for no gain. Reading each piece as four ranged GETs at once,
	// so that an owner's read gets more of its downlink, took 1.60x at
	// N=32, 10 Mbit against 1.52x in the same hour.
	originWindow = 8
	// originParallel is how many of them one host fetches at once.
	originParallel = 2
	// originTick is how often a host looks at what the swarm holds.
	originTick = 100 * time.Millisecond
	// originSettle: the origin is not asked until the set of peers has not
	// changed for this long (or originSettleMax passed), so that hosts
	// starting together rank each other, not themselves alone.
	originSettle    = time.Second
	originSettleMax = 5 * time.Second
)

// originPatience is how long a piece waits for its owner before the next
// host in rank takes it too, at first; it grows to four times the longest
// origin read this host made, and to twice the longest another host's read
// seemed to take (from the piece's entering the window to a peer holding
// it), up to originPatienceMax. Hosts that had read nothing yet kept 5 s
// while eight reads shared a 50 Mbit link, 5.4 s each, and read the same
// pieces again: the mirror sent 1.40x the image at N=32. A variable for
// tests.
var originPatience = 5 * time.Second

// originPatienceMax caps what reads, this host's or others', make the
// patience grow to. While many reads share the origin, the wait grows with
// them anyway (wait); the patience is what is left when few do: at the end
// of the image, when the last pieces' owners may fail. Uncapped, this
// host's own reads made it grow to four times 17-28 s, eight reads sharing
// the origin at 10 Mbit: when an owner's connections to the mirror then
// failed (its own full uplink lost its SYNs and ARP), the next host in rank
// waited 100 s and more for one of the last pieces, and every host
// finished that much later.
const originPatienceMax = 30 * time.Second

// originFeed is one fetch's use of the origin: a loop in its own goroutine.
type originFeed struct {
	origin Origin
	req    fetchers.Request
	t      *torrent.Torrent
	b      *backing
	v      *view
	info   *metainfo.Info
	self   torrent.PeerID

	patience time.Duration
	started  time.Time
	peers    int             // how many peers were seen at the last tick
	peersAt  time.Time       // when that number last changed
	count    []int           // holders per piece at the last look
	since    map[int]entered // the pieces of the window, and when they entered it
	// share is the shortest time a piece seemed to take, per read sharing
	// the origin (a time.Duration); atomic for pieceTime.
	share   atomic.Int64
	busy    map[int]bool
	retryAt map[int]time.Time
	fails   map[int]int // failed reads per piece since its last good one
	// arrivals is when the latest pieces of the window came into the
	// swarm, oldest first, up to originArrivals of them; pace is the time
	// between them (a time.Duration), atomic for interval.
	arrivals []time.Time
	pace     atomic.Int64
	// feeding is false once the origin failed permanently, and while a
	// seed is in the swarm (atomic for fedPace and awaitsFirst).
	feeding atomic.Bool
	off     error // set once the origin failed permanently
	results chan originResult

	// Pieces and Bytes count what this host read from the origin.
	Pieces int
	Bytes  int64
}

// entered is when a piece entered the window, and the window's length then.
type entered struct {
	at time.Time
	w  int
}

type originResult struct {
	piece int
	took  time.Duration
	err   error
}

func newOriginFeed(o Origin, req fetchers.Request, t *torrent.Torrent, b *backing, v *view) *originFeed {
	now := time.Now()
	feed := &originFeed{
		origin: o, req: req, t: t, b: b, v: v, info: b.info, self: v.self,
		patience: originPatience, started: now, peersAt: now, count: make([]int, len(b.state)),
		since: map[int]entered{}, busy: map[int]bool{}, retryAt: map[int]time.Time{}, fails: map[int]int{},
		results: make(chan originResult),
	}
	feed.feeding.Store(true)
	return feed
}

// run feeds the swarm from the origin until ctx ends; it returns once no
// read it started is left.
func (o *originFeed) run(ctx context.Context) {
	tick := time.NewTicker(originTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for range o.busy {
				<-o.results
			}
			return
		case r := <-o.results:
			o.done(r)
		case now := <-tick.C:
			o.step(ctx, now)
		}
	}
}

// done records a finished origin read.
func (o *originFeed) done(r originResult) {
	delete(o.busy, r.piece)
	if r.err == nil {
		delete(o.fails, r.piece)
		o.Pieces++
		o.Bytes += o.info.Piece(r.piece).Length()
		o.patience = max(o.patience, min(4*r.took, originPatienceMax))
		o.observe(r.took, o.since[r.piece].w)
		return
	}
	if fetchers.IsPermanent(r.err) {
		o.off = r.err
	}
	o.retryAt[r.piece] = time.Now().Add(o.retryAfter(r.piece))
}

// originRetry is how soon a host reads a piece from the origin again after
// a failed read, at first; it doubles with each failure of the piece, up to
// the patience. A failed read has most often cost the origin nothing: at
// N=32, 10 Mbit, hosts whose links were full lost their connection
// attempts to the mirror ("dial tcp: i/o timeout" after 30 s, "connect: no
// route to host" when ARP went unanswered). Waiting the patience (30-70 s
// there: it grows to four times the host's longest read) before trying
// again held those pieces back 36-110 s, and the pieces behind them too.
const originRetry = time.Second

// retryAfter is how long to wait before reading piece p again after a
// failed read.
func (o *originFeed) retryAfter(p int) time.Duration {
	n := min(o.fails[p], 20)
	o.fails[p]++
	return min(originRetry<<n, o.patience)
}

// step starts the origin reads this host owes the swarm now. It looks at
// the swarm even while this host's own reads fill originParallel: pieces
// that came in meanwhile would otherwise be counted as arriving together,
// at the next free tick, and the pace would read short.
func (o *originFeed) step(ctx context.Context, now time.Time) {
	ids, seeds := o.v.look(now, o.count)
	if len(ids) != o.peers {
		o.peers, o.peersAt = len(ids), now
	}
	o.feeding.Store(o.off == nil && seeds == 0)
	if o.off != nil || seeds > 0 || (now.Sub(o.peersAt) < originSettle && now.Sub(o.started) < originSettleMax) {
		return
	}
	window := o.window()
	for p, e := range o.since {
		if slices.Contains(window, p) {
			continue
		}
		// A piece leaves the window when a host holds it, or when pieces
		// a departed peer held push it out.
		held := o.count[p] > 0
		if held || o.landed(p) {
			o.arrived(now)
		}
		if held {
			// Some host brought p in: its read took this long at most.
			// After a slow owner that includes the patience itself,
			// hence the cap.
			took := now.Sub(e.at)
			o.patience = max(o.patience, min(2*took, originPatienceMax))
			o.observe(took, e.w)
		}
		delete(o.since, p)
	}
	for _, p := range window {
		if _, ok := o.since[p]; !ok {
			o.since[p] = entered{now, len(window)}
		}
	}
	if len(o.busy) >= originParallel {
		return
	}
	wait := o.wait(len(window))
	for _, p := range window {
		if o.busy[p] || now.Before(o.retryAt[p]) {
			continue
		}
		if now.Sub(o.since[p].at) < time.Duration(rank(o.self, ids, p))*wait {
			continue
		}
		o.busy[p] = true
		safe.Go(func() { o.results <- o.read(ctx, p) })
		if len(o.busy) >= originParallel {
			return
		}
	}
}

// observe learns from a piece that took took to come in from the origin
// while w reads shared it.
func (o *originFeed) observe(took time.Duration, w int) {
	if per, cur := took/time.Duration(max(1, w)), o.pieceTime(); cur == 0 || per < cur {
		o.share.Store(int64(per))
	}
}

// pieceTime is the shortest time one piece seemed to take from the origin
// alone (0 until one was seen): the swarm's unit of time. Safe to call
// while run runs.
func (o *originFeed) pieceTime() time.Duration { return time.Duration(o.share.Load()) }

// wait is how long each host ahead in rank gets to bring a piece in while
// w reads share the origin: the patience; at least twice what w reads of
// the shortest observed length take together; and at least three times
// what w pieces take at the pace pieces have been coming in from the
// origin (interval). Eight reads sharing a 25 Mbit link take 11 s each;
// with 5 s of patience the next host in rank read many pieces again, and
// the origin sent 1.12-1.32x the image at N=32 (1.13-1.14x with the second
// term). The second term alone trusts the shortest read seen, divided by
// the reads it may have shared the link with, which undercounts a shared
// read: at 10 Mbit it waited 16-30 s while eight shared reads took 27 s or
// more, every piece the next host read again slowed the others, and reads
// took 30 s to 2 min, nginx dropped the slowest (connection reset), and the
// origin sent 1.70x the image (1.97x in all). The pace is what the origin's
// link delivers with every read and duplicate on it: more reads on it slow
// it, and the wait grows with them instead of sending more. Neither read
// term has a cap: a host that went quiet is taken out of the ranks when
// its connections close, so the wait is for live owners whose reads are
// slow.
func (o *originFeed) wait(w int) time.Duration {
	return max(o.patience, 2*time.Duration(w)*o.pieceTime(), 3*time.Duration(w)*o.interval())
}

// originArrivals is how many of the latest pieces from the origin its pace
// is measured over.
const originArrivals = 8

// interval is the time between pieces coming into the swarm from the
// origin, over the latest arrivals: 0 until two arrived. Safe to call while
// run runs.
func (o *originFeed) interval() time.Duration { return time.Duration(o.pace.Load()) }

// landed reports whether piece p is complete here.
func (o *originFeed) landed(p int) bool {
	o.b.mu.Lock()
	defer o.b.mu.Unlock()
	return o.b.state[p] == pieceComplete
}

// fedPace is interval while the origin feeds the swarm (no permanent
// failure, no seed at the last look), else 0. Safe to call while run runs.
func (o *originFeed) fedPace() time.Duration {
	if !o.feeding.Load() {
		return 0
	}
	return o.interval()
}

// awaitsFirst reports whether the origin feeds the swarm and this host has
// not yet seen a piece come in from it. Safe to call while run runs.
func (o *originFeed) awaitsFirst() bool { return o.feeding.Load() && o.pieceTime() == 0 }

// arrived records that a piece of the window came into the swarm at now.
func (o *originFeed) arrived(now time.Time) {
	if len(o.arrivals) == originArrivals {
		o.arrivals = append(o.arrivals[:0], o.arrivals[1:]...)
	}
	o.arrivals = append(o.arrivals, now)
	if n := len(o.arrivals); n > 1 {
		o.pace.Store(int64(now.Sub(o.arrivals[0]) / time.Duration(n-1)))
	}
}

// window is the first pieces, in index order, that neither this host nor
// any peer held at the last look (o.count): as many as windowSize allows.
func (o *originFeed) window() []int {
	var missing []int
	held := 0
	o.b.mu.Lock()
	for p := range o.b.state {
		if o.b.state[p] == pieceComplete || o.count[p] > 0 {
			held++
		} else if len(missing) < originWindow {
			missing = append(missing, p)
		}
	}
	o.b.mu.Unlock()
	return missing[:min(len(missing), windowSize(held))]
}

// windowSize is how many pieces nobody holds may be read from the origin
// at once, when held pieces are in the swarm: one at first, then three,
// up to originWindow. Reads in flight share the origin's link, so eight
// started together land together, eight piece times after the start
// (10 s at 25 Mbit): no host had a byte to show for that long, and with a
// 10 s stall_timeout every host of a 32-host testbed gave the swarm up for
// the mirror. One read alone lands in one piece time; once pieces are in
// the swarm, hosts' downlinks carry their trades too, and more reads keep
// the origin's link full. Growing it half as fast (1+held/2) took 1.51x at
// N=32, 10 Mbit against 1.52x in the same hour: the first 55 s brought each
// host 25 MiB against 21, inside the runs' spread.
func windowSize(held int) int {
	return min(originWindow, 1+2*held)
}

// read fetches piece p from the origin, checks its SHA-1 as the client does
// a peer's, writes it to the backing and has the client announce it.
func (o *originFeed) read(ctx context.Context, p int) originResult {
	t0 := time.Now()
	pi := o.info.Piece(p)
	bp := pieceBufs.Get().(*[]byte)
	defer pieceBufs.Put(bp)
	if int64(cap(*bp)) < pi.Length() {
		*bp = make([]byte, pi.Length())
	}
	buf := (*bp)[:pi.Length()]
	err := o.origin(ctx, o.req, buf, pi.Offset())
	if err == nil && sha1.Sum(buf) != pi.V1Hash().Unwrap() {
		err = fetchers.Permanent(fmt.Errorf("piece %d failed its SHA-1 check: %w", p, errOriginBytes))
	}
	if err == nil {
		pc := &piece{b: o.b, i: p, off: pi.Offset(), n: pi.Length()}
		err = pc.land(func(skip int64) ([]byte, func()) { return buf[skip:], func() {} })
	}
	if err == nil {
		// The client learns of the piece from the backing, and announces it.
		o.t.Piece(p).UpdateCompletion()
	}
	return originResult{piece: p, took: time.Since(t0), err: err}
}

var errOriginBytes = errors.New("origin's bytes differ from the metainfo")

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
