package torrent

import (
	"context"
	"crypto/sha1"
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
//   - Pace: only the first Config.OriginWindow pieces that no peer holds may be
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

// originFeed is one fetch's use of the origin: a loop in its own goroutine.
type originFeed struct {
	cfg    *Config
	origin Origin
	req    fetchers.Request
	t      *torrent.Torrent
	b      *backing
	v      *view
	info   *metainfo.Info
	self   torrent.PeerID

	// patience grows to four times this host's longest read and twice
	// the longest another host's seemed to take, up to OriginPatienceMax.
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
	// swarm, oldest first, up to OriginArrivals of them; pace is the time
	// between them (a time.Duration), atomic for interval.
	arrivals []time.Time
	pace     atomic.Int64
	// feeding is false once the origin failed permanently, and while a
	// seed is in the swarm (atomic for quiet).
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

func newOriginFeed(cfg *Config, o Origin, req fetchers.Request, t *torrent.Torrent, b *backing, v *view) *originFeed {
	now := time.Now()
	feed := &originFeed{
		cfg: cfg, origin: o, req: req, t: t, b: b, v: v, info: b.info, self: v.self,
		patience: cfg.OriginPatience, started: now, peersAt: now, count: make([]int, len(b.state)),
		since: map[int]entered{}, busy: map[int]bool{}, retryAt: map[int]time.Time{}, fails: map[int]int{},
		results: make(chan originResult),
	}
	feed.feeding.Store(true)
	return feed
}

// run feeds the swarm from the origin until ctx ends; it returns once no
// read it started is left.
func (o *originFeed) run(ctx context.Context) {
	tick := time.NewTicker(o.cfg.OriginTick)
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
		o.patience = max(o.patience, min(4*r.took, o.cfg.OriginPatienceMax))
		o.observe(r.took, o.since[r.piece].w)
		return
	}
	if fetchers.IsPermanent(r.err) {
		o.off = r.err
	}
	o.retryAt[r.piece] = time.Now().Add(o.retryAfter(r.piece))
}

// retryAfter is how long to wait before reading piece p again after a
// failed read: OriginRetry, doubling with each failure of the piece, up to
// the patience. Most failed reads cost the origin nothing (a connection
// attempt lost on a full link), so waiting the whole patience would only
// hold the piece back.
func (o *originFeed) retryAfter(p int) time.Duration {
	n := min(o.fails[p], 20)
	o.fails[p]++
	return min(o.cfg.OriginRetry<<n, o.patience)
}

// step starts the origin reads this host owes the swarm now. It looks at
// the swarm even while this host's own reads fill OriginParallel: pieces
// that came in meanwhile would otherwise be counted as arriving together,
// at the next free tick, and the pace would read short.
func (o *originFeed) step(ctx context.Context, now time.Time) {
	ids, seeds := o.v.look(now, o.count)
	if len(ids) != o.peers {
		o.peers, o.peersAt = len(ids), now
	}
	o.feeding.Store(o.off == nil && seeds == 0)
	if o.off != nil || seeds > 0 || (now.Sub(o.peersAt) < o.cfg.OriginSettle && now.Sub(o.started) < o.cfg.OriginSettleMax) {
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
			o.patience = max(o.patience, min(2*took, o.cfg.OriginPatienceMax))
			o.observe(took, e.w)
		}
		delete(o.since, p)
	}
	for _, p := range window {
		if _, ok := o.since[p]; !ok {
			o.since[p] = entered{now, len(window)}
		}
	}
	if len(o.busy) >= o.cfg.OriginParallel {
		return
	}
	wait := o.wait(len(window))
	for _, p := range window {
		if o.busy[p] || now.Before(o.retryAt[p]) {
			continue
		}
		if !ownerTurn(rank(o.self, ids, p), now.Sub(o.since[p].at), wait) {
			continue
		}
		o.busy[p] = true
		safe.Go(func() { o.results <- o.read(ctx, p) })
		if len(o.busy) >= o.cfg.OriginParallel {
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

// wait is originWait for this feed's patience and observations.
func (o *originFeed) wait(w int) time.Duration {
	return originWait(o.patience, o.pieceTime(), o.interval(), w)
}

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

// quiet is what the stall patience asks of the feed: the piece time, and
// while the origin feeds the swarm (no permanent failure, no seed at the
// last look) its pace and whether its first piece is still awaited. Safe
// to call while run runs.
func (o *originFeed) quiet() quietState {
	if !o.feeding.Load() {
		return quietState{pieceTime: o.pieceTime()}
	}
	return quietState{pieceTime: o.pieceTime(), pace: o.interval(), first: o.pieceTime() == 0}
}

// arrived records that a piece of the window came into the swarm at now.
func (o *originFeed) arrived(now time.Time) {
	if len(o.arrivals) == o.cfg.OriginArrivals {
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
		} else if len(missing) < o.cfg.OriginWindow {
			missing = append(missing, p)
		}
	}
	o.b.mu.Unlock()
	return missing[:min(len(missing), windowSize(o.cfg, held))]
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
