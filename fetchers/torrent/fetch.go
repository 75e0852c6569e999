package torrent

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/tracker"
	"github.com/cenkalti/backoff/v5"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/internal/safe"
)

var _ fetchers.Fetcher = (*Fetcher)(nil)

// MetainfoFunc finds the metainfo of the image a request names: from the
// image's torrent_url, from a peer's GET /v1/torrents/..., or made locally.
// An error wrapping fetchers.ErrNotFound means this image has no swarm.
type MetainfoFunc func(ctx context.Context, req fetchers.Request) (*metainfo.MetaInfo, error)

// PeersFunc lists explicit peers, "host:port" of their torrent listeners
// (tree parents, the tree's hosts). It is called when a fetch starts and
// again every PeerOffer while it runs, so peers that were down are
// retried. nil means none: the tracker alone finds peers.
type PeersFunc func() []string

// PeerRefresh bounds a tracker announce, and is how often a swarm still
// waiting for an image's info offers its explicit peers again.
const PeerRefresh = 5 * time.Second

// PeerOffer is how often a running fetch offers its explicit peers to the
// client again. A host that completes the image leaves the swarm with its
// apply, and its serve seeds the image a second later on the same host's
// torrent listener; the peers still fetching find that seed only when they
// offer its address again. At 5 s the last hosts of a run (N=32, 10 Mbit)
// saw their finished peers gone for 10-15 s, 16 of 31 connected, and
// finished 10-20 s after the median host. At 1 s: 9 s after it, 1.50x (one
// run), with no more CPU per host (14.5 s against 13.8-14.7 s).
const PeerOffer = time.Second

// Fetcher fetches images from the Swarm it was made by.
type Fetcher struct {
	s        *Swarm
	metainfo MetainfoFunc
	peers    PeersFunc
	window   int  // pieces asked for before any other (picker); 0: none
	inOrder  bool // the window follows the complete prefix, else random
	origin   Origin
}

// Fetcher returns the swarm source of images: metainfo says what to fetch
// and peers whom to ask besides the tracker.
func (s *Swarm) Fetcher(metainfo MetainfoFunc, peers PeersFunc) *Fetcher {
	return &Fetcher{s: s, metainfo: metainfo, peers: peers, window: DefaultWindow}
}

// InOrder returns a copy of f that asks for the window pieces just past
// dst's complete prefix before any other, so that the prefix, all a
// cut-through child can stream, grows while the swarm fills the rest
// rarest first. Only a host with children needs it: hosts that all want
// the same few pieces trade fewer with each other. window 0 leaves the
// order to the client (rarest first, then by index).
func (f *Fetcher) InOrder(window int) *Fetcher {
	g := *f
	g.window, g.inOrder = window, true
	return &g
}

// Fetch implements fetchers.Fetcher. Pieces land in dst in any order, each written once, whole, after its SHA-1
// passed. Pieces entirely below dst.Offset() are taken as complete and not
// fetched again. While it runs, the Swarm also serves the pieces it has
// from dst to other peers. Fetch returns nil once every piece is in dst,
// and drops the torrent: to keep seeding, the caller calls Seed with the
// blob's path once the engine committed it.
//
// Errors: Permanent when the metainfo does not
// describe this image; ErrStalled (retryable) when no piece completes for
// Config.StallTimeout; ctx's error when ctx ends first.
func (f *Fetcher) Fetch(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
	rd := dst
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("torrent: image %s: %w", req.Image, err)
	}
	prefix := rd.Offset()
	if prefix >= req.Size {
		return nil // nothing to fetch; an empty image has no torrent at all
	}
	mi, err := f.findMetainfo(ctx, req, dst)
	if err != nil {
		return fmt.Errorf("torrent: image %s: metainfo: %w", req.Image, err)
	}
	ih := mi.HashInfoBytes()
	info, err := checkInfo(mi, req)
	if err != nil {
		return fmt.Errorf("torrent %s: image %s: %w", ih.HexString(), req.Image, err)
	}
	b := newBacking(info, rd, rd, func(_, end int64) bool { return end <= prefix })
	b.prefix = rd.Offset
	t, err := f.s.addFetch(mi, b)
	if err != nil {
		b.Close()
		return fetchers.Permanent(fmt.Errorf("torrent %s: image %s: %w", ih.HexString(), req.Image, err))
	}
	defer f.s.Drop(ih)
	if f.inOrder {
		t.DownloadAll()
	} // else the gate opens pieces as they spread (gate.go)
	if err := f.wait(ctx, req, t, b, rd); err != nil {
		return fmt.Errorf("torrent %s: image %s: %w", ih.HexString(), req.Image, err)
	}
	return nil
}

// Waits between tries of a metainfo that could not be had: the first, and
// the longest; and how long a fetch tries at least (findMetainfo).
// Variables for tests.
//
// The tries outlast a short stall timeout because the torrent_url is
// usually on the mirror's host, whose link the origin reads fill from the
// first seconds on; its queue then drops packets, and a small GET's lost
// SYN-ACK or response costs seconds. With the testbed's 10 s two tries of
// 5 s fit, and in one 32-host run one host lost both (the mirror sent
// 2.12x the image). Leaving the swarm for that mirror is the worst answer
// to a busy mirror.
var (
	metainfoRetry    = 250 * time.Millisecond
	metainfoRetryMax = 2 * time.Second
	metainfoPatience = 30 * time.Second
)

// findMetainfo asks f.metainfo until it answers, fails permanently, ctx
// ends, or the stall timeout (but at least metainfoPatience) passed since
// the first try: a request lost or timed out (a .torrent is one small GET)
// is no reason to leave the swarm. A fetch that gives the swarm up takes
// the image from the next source, the mirror, whole: at N=32 one host
// whose GET of the torrent_url timed out at the start did so, and the
// mirror sent 2.15x the image instead of about 1.1x, slowing every origin
// read. Each failed try is logged.
//
// dst's watchdog (fetchers.WithStallTimeout), which the engine sets to the
// same stall timeout, is beaten while the tries last, also during a try:
// it would otherwise end the last tries, or a GET that takes longer than a
// short stall timeout. In a 32-host testbed run one host's first GET of
// the torrent_url timed out after 5 s, and the watchdog stopped its retry
// 5 s later, just before its answer could come; the host read the image
// from the mirror (2.07x the image from the mirror for the run).
func (f *Fetcher) findMetainfo(ctx context.Context, req fetchers.Request, dst fetchers.Dst) (*metainfo.MetaInfo, error) {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     metainfoRetry,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          2,
		MaxInterval:         metainfoRetryMax,
	}
	beats := time.NewTicker(f.s.beatEvery())
	defer beats.Stop()
	beating := make(chan struct{})
	defer close(beating)
	safe.Go(func() {
		for {
			select {
			case <-beats.C:
				dst.Beat()
			case <-beating:
				return
			}
		}
	})
	var last error
	mi, err := backoff.Retry(ctx, func() (*metainfo.MetaInfo, error) {
		mi, err := f.metainfo(ctx, req)
		switch {
		case err == nil:
			return mi, nil
		case fetchers.IsPermanent(err) || ctx.Err() != nil:
			return nil, backoff.Permanent(err)
		}
		last = err
		return nil, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(max(f.s.cfg.StallTimeout, metainfoPatience)),
		backoff.WithNotify(func(err error, wait time.Duration) {
			f.s.logf("torrent: image %s: metainfo: %v; trying again in %s", req.Image, err, wait.Round(time.Millisecond))
		}))
	if err != nil && last != nil && ctx.Err() != nil {
		// ctx ended during a wait: its error, and what was being waited out.
		return nil, fmt.Errorf("%w (last try: %v)", err, last)
	}
	return mi, err
}

// checkInfo decodes mi's info and checks it against the request.
func checkInfo(mi *metainfo.MetaInfo, req fetchers.Request) (*metainfo.Info, error) {
	info, err := singleFileInfo(mi)
	if err != nil {
		return nil, fetchers.Permanent(err)
	}
	switch {
	case info.Length > req.Size:
		return nil, fmt.Errorf("metainfo has %d bytes, the image %d: %w", info.Length, req.Size, fetchers.ErrTooLong)
	case info.Length < req.Size:
		// Retryable, as for every source that ends early (fetcherstest.Suite);
		// a retry gets the same metainfo and fails fast.
		return nil, fmt.Errorf("metainfo has %d bytes, the image %d: %w", info.Length, req.Size, fetchers.ErrTooShort)
	}
	return info, nil
}

// addFetch adds mi's torrent for fetching into b.
func (s *Swarm) addFetch(mi *metainfo.MetaInfo, b *backing) (*torrent.Torrent, error) {
	ih := mi.HashInfoBytes()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.active[ih]; ok {
		return nil, ErrBusy
	}
	t, err := s.addLocked(mi, b)
	if err != nil {
		return nil, err
	}
	s.active[ih] = &entry{t: t}
	return t, nil
}

// wait returns once every piece of b is complete, or fails on a write
// error, a stall or ctx. What counts as progress is liveness's.
func (f *Fetcher) wait(ctx context.Context, req fetchers.Request, t *torrent.Torrent, b *backing, dst fetchers.Dst) error {
	stall := time.NewTimer(f.s.cfg.StallTimeout)
	defer stall.Stop()
	refresh := time.NewTicker(PeerOffer)
	defer refresh.Stop()
	live := liveness{t: t, b: b}
	looks := time.NewTicker(f.s.beatEvery())
	defer looks.Stop()
	peers := f.s.refresher(ctx, t, f.peers, "image "+req.Image)
	defer peers.stop()
	v := newView(t, f.s.cl.PeerID(), len(b.state))
	o := f.startOrigin(ctx, req, t, b, v)
	defer o.stop()
	pick := newPicker(len(b.state), o.window, f.inOrder)
	pick.raise(t, b)
	gated, step, stopGate := f.startGate(t, b, v)
	defer stopGate()
	pieceTime, pace, first := o.pieceTime, o.pace, o.first
	quiet := func() time.Duration { return quietFor(f.s.cfg.StallTimeout, pieceTime(), pace(), first()) }
	moved := time.Now()
	for {
		select {
		case now := <-gated:
			step(now)
		case <-b.done:
			return nil
		case <-b.changed:
			if _, err := b.progress(); err != nil {
				return err
			}
			pick.raise(t, b)
			moved = time.Now()
			stall.Reset(quiet())
		case now := <-looks.C:
			if live.moved() {
				moved = now
				stall.Reset(quiet())
			}
			if now.Sub(moved) < quiet() {
				// Also while quiet for less than a swarm may be: the
				// engine's watchdog, set to the stall timeout, would hand a
				// live swarm over to the mirror.
				dst.Beat()
			}
		case <-refresh.C:
			peers.refresh()
		case <-stall.C:
			if left := quiet() - time.Since(moved); left > 0 {
				stall.Reset(left) // the swarm's piece time grew since
				continue
			}
			n, _ := b.progress()
			return fmt.Errorf("%d of %d pieces, and no new block or piece for %s (%s): %w",
				n, len(b.state), roundQuiet(quiet()), live.peers(), fetchers.ErrStalled)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// originRun is the origin feed of one wait: what the stall clock asks of
// it, the in-order window to use, and stop.
type originRun struct {
	pieceTime, pace func() time.Duration
	first           func() bool
	window          int
	stop            func()
}

// startOrigin starts feeding pieces no peer holds from the origin, when the
// fetcher has one.
func (f *Fetcher) startOrigin(ctx context.Context, req fetchers.Request, t *torrent.Torrent, b *backing, v *view) originRun {
	o := originRun{pieceTime: func() time.Duration { return 0 }, pace: func() time.Duration { return 0 },
		first: func() bool { return false }, window: f.window, stop: func() {}}
	if f.origin == nil {
		return o
	}
	feed := newOriginFeed(f.origin, req, t, b, v)
	o.pieceTime, o.pace, o.first = feed.pieceTime, feed.fedPace, feed.awaitsFirst
	octx, cancel := context.WithCancel(ctx)
	fed := make(chan struct{})
	safe.Go(func() { feed.run(octx); close(fed) })
	o.stop = func() {
		cancel()
		<-fed
		st := t.Stats()
		f.s.logf("torrent: image %s: %d pieces (%d bytes) from the origin; from peers %d chunks, %d of them unwanted; %d bytes sent",
			req.Image, feed.Pieces, feed.Bytes, st.ChunksReadUseful.Int64()+st.ChunksReadWasted.Int64(), st.ChunksReadWasted.Int64(), st.BytesWrittenData.Int64())
	}
	if !f.inOrder {
		// The origin brings pieces in in index order and each to one
		// host; the swarm's rarest first spreads them. A random window
		// of high priority would only delay that.
		o.window = 0
	}
	return o
}

// startGate starts, for a fetch out of order, the rarity gate, the upload
// order (rareFirst) and the pacer; gated ticks when step is due. An
// in-order fetch has none: gated is nil and never ticks.
func (f *Fetcher) startGate(t *torrent.Torrent, b *backing, v *view) (gated <-chan time.Time, step func(time.Time), stop func()) {
	if f.inOrder {
		return nil, func(time.Time) {}, func() {}
	}
	g := newGate(t, b, v)
	g.fed = f.origin != nil
	g.throttle = f.s.throttle
	g.step(time.Now())
	order, scratch := &rareFirst{}, make([]int, len(b.state))
	order.update(time.Now(), v, b, scratch)
	f.s.rare.Store(t, order)
	pc := &pacer{p: f.s.pace}
	tick := time.NewTicker(gateTick)
	step = func(now time.Time) {
		g.step(now)
		order.update(now, v, b, scratch)
		median, ok := v.median(now)
		mine, _ := b.progress()
		st := t.Stats()
		pc.step(now, st.BytesWrittenData.Int64(), mine, median, ok)
	}
	stop = func() {
		tick.Stop()
		pc.stop()
		f.s.rare.Delete(t)
	}
	return tick.C, step, stop
}

// peerRefresher offers a torrent's explicit peers to the client, and asks
// the Swarm's tracker itself while the torrent has no peer at all.
// anacrolix v1.61.0 announces once as a torrent starts and, after a failed
// announce, not again for a minute: far past a stall timeout of seconds. The
// tracker often shares the mirror's host, whose link fills as a rollout
// starts, and a host whose first announce was lost there stayed alone. In a
// 32-host testbed run one host gave the swarm up after 10 s, the 31 others
// carrying on, and read the image from the mirror, which sent 2.03x the
// image.
type peerRefresher struct {
	s      *Swarm
	t      *torrent.Torrent
	peers  PeersFunc
	what   string // what the torrent is fetched for, in logs
	ctx    context.Context
	cancel context.CancelFunc
	asking atomic.Bool
	asked  sync.WaitGroup
}

// refresher offers t its explicit peers at once, and returns what offers
// them again (refresh) until stop.
func (s *Swarm) refresher(ctx context.Context, t *torrent.Torrent, peers PeersFunc, what string) *peerRefresher {
	ctx, cancel := context.WithCancel(ctx)
	r := &peerRefresher{s: s, t: t, peers: peers, what: what, ctx: ctx, cancel: cancel}
	addPeers(t, peers) // the client announces to the tracker itself
	return r
}

// refresh offers the explicit peers again and, if the torrent has no peer,
// asks the tracker in the background, one announce at a time.
func (r *peerRefresher) refresh() {
	addPeers(r.t, r.peers)
	if r.s.cfg.Tracker == "" || len(r.t.PeerConns()) > 0 || !r.asking.CompareAndSwap(false, true) {
		return
	}
	r.asked.Add(1)
	safe.Go(func() {
		defer r.asked.Done()
		defer r.asking.Store(false)
		n, err := r.askTracker()
		if err != nil {
			r.s.logf("torrent: %s: no peer yet, and tracker %s: %v", r.what, r.s.cfg.Tracker, err)
			return
		}
		r.s.logf("torrent: %s: no peer yet; tracker %s listed %d", r.what, r.s.cfg.Tracker, n)
	})
}

// stop ends an announce under way and waits for it.
func (r *peerRefresher) stop() {
	r.cancel()
	r.asked.Wait()
}

// askTracker announces to the tracker and offers the client the peers it
// lists.
func (r *peerRefresher) askTracker() (int, error) {
	cl, err := tracker.NewClient(r.s.cfg.Tracker, tracker.NewClientOpts{})
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(r.ctx, PeerRefresh)
	defer cancel()
	left := int64(-1) // unknown until the info is
	if r.t.Info() != nil {
		left = r.t.BytesMissing()
	}
	resp, err := cl.Announce(ctx, tracker.AnnounceRequest{
		InfoHash: r.t.InfoHash(),
		PeerId:   r.s.cl.PeerID(),
		Port:     uint16(r.s.Port()),
		Left:     left,
		Event:    tracker.Started,
		NumWant:  -1,
	}, tracker.AnnounceOpt{})
	if err != nil {
		return 0, err
	}
	var ps []torrent.PeerInfo
	for _, p := range resp.Peers {
		ps = append(ps, torrent.PeerInfo{
			Addr:   torrent.StringAddr(net.JoinHostPort(p.IP.String(), strconv.Itoa(p.Port))),
			Source: torrent.PeerSourceTracker,
		})
	}
	r.t.AddPeers(ps)
	return len(ps), nil
}

// addPeers offers the explicit peers to the client. Peers it already knows
// or is connected to are not dialled twice.
func addPeers(t *torrent.Torrent, peers PeersFunc) {
	if peers == nil {
		return
	}
	var ps []torrent.PeerInfo
	for _, p := range peers() {
		ps = append(ps, torrent.PeerInfo{Addr: torrent.StringAddr(p), Source: torrent.PeerSourceDirect})
	}
	t.AddPeers(ps)
}

// quietPieces is how many piece times a swarm may go without a sign of
// progress before a fetch gives it up, when that is longer than the stall
// timeout. A new piece spreads from its first holder to five hosts at once,
// each at a fifth of the holder's link, so a host can see nothing happen
// for five piece times or more in a healthy swarm: 13 s for 4 MiB at
// 12.5 Mbit. With a 10 s stall timeout 18 of 32 hosts gave up on such a
// swarm at once, the mirror they fell back to starved the origin reads of
// the others, and after 10 minutes most hosts had a quarter of the image
// (6 minutes for all of it with this). On a farm's LAN a piece time is tens
// of milliseconds and the stall timeout rules.
const quietPieces = 10

// quietArrivals is how many times the pace of the origin's pieces (the
// time between their arrivals, originFeed.interval) a swarm fed by the
// origin may go without a sign of progress: four times what a full window
// of reads, sharing the origin's link, takes, and so longer than the wait
// before the next host in rank reads a piece again (three times). Once
// every host holds what the swarm holds, all wait on the reads in flight,
// and those started together land together. At N=32 and 10 Mbit the
// origin's reads took 30 s and more, nothing moved for 16 s (ten times the
// shortest piece time seen), and all 32 hosts gave the swarm up for the
// mirror at once: 40 minutes on, each had half the image.
const quietArrivals = 4 * originWindow

// quietFor is how long a swarm fetch may go without a sign of progress: the
// stall timeout, but at least minQuiet, quietPieces piece times and
// quietArrivals times the pace of the origin's pieces (0 unless the origin
// feeds the swarm); and quietFirst while the origin feeds the swarm and no
// piece from it was seen yet (first).
func quietFor(stall, pieceTime, pace time.Duration, first bool) time.Duration {
	q := max(stall, minQuiet, quietPieces*pieceTime, quietArrivals*pace)
	if first {
		q = max(q, quietFirst)
	}
	return q
}

// quietFirst is how long a swarm the origin feeds may show nothing before
// its first piece: nobody holds a byte until the origin's first read lands,
// after the hosts settle (up to originSettleMax) and one piece time, and a
// host then sees it only through the peers it is connected to. At N=32 and
// 10 Mbit the first piece landed 7 s into the rollout, and 3 hosts that no
// holder had reached by 10 s (the stall timeout) gave the swarm up for the
// mirror, which then took 18 minutes to serve them. As long as the metainfo
// tries (metainfoPatience). A variable for tests that wait for a stall.
var quietFirst = 30 * time.Second

// roundQuiet is q as a stall's error says it: to the second, but a stall
// timeout under a second (tests) to the millisecond, not as "0s".
func roundQuiet(q time.Duration) time.Duration {
	if q < time.Second {
		return q.Round(time.Millisecond)
	}
	return q.Round(time.Second)
}

// minQuiet is the least time a swarm fetch waits for a sign of progress
// before it gives the swarm up, whatever the stall timeout. A connection's
// writer can sleep up to writerWake with blocks ready for its peer (see
// writerWake), and with one seed that peer is the whole swarm. With a 3 s
// stall_timeout an apply fetching from one `serve` failed that way, under
// the load of a fresh clone's CI run: "0 of 3 pieces, and no new block or
// piece for 3s (peers connected: 1, holding 3 pieces in all)". A variable
// for tests that wait for a stall.
var minQuiet = writerWake + time.Second

// livenessTick is how often a fetch looks for progress short of a piece,
// at most: four times per stall timeout, so that a watchdog with the same
// timeout hears of it in time.
const livenessTick = time.Second

// beatEvery is how often a fetch looks for progress and beats its
// destination's watchdog (livenessTick).
func (s *Swarm) beatEvery() time.Duration { return min(livenessTick, s.cfg.StallTimeout/4) }

// liveness tells a swarm fetch that is getting somewhere from a stalled one
// before a piece lands. A 4 MiB piece fetched from many peers at once, each
// a share of a slow link, may take longer than the stall timeout to
// complete; and as a rollout starts nobody holds a piece until the origin's
// first reads land. A host that then gave up on the swarm fell back to the
// mirror, slowed the origin reads of the others, and made them give up too:
// at N=32 and 50 Mbit, 31 hosts ended on the mirror. So a fetch moves while
// useful blocks arrive, and while its peers gain pieces: a host that has
// nothing to ask for yet, because the pieces it lacks are still on their way
// from the origin or gated (gate.go), waits for a swarm that is alive. At
// 25 Mbit hosts went 10 s without a block both after their first piece and
// before their last, and left a live swarm for the mirror.
type liveness struct {
	t      *torrent.Torrent
	b      *backing
	useful int64  // useful blocks received at the last look
	held   uint64 // pieces peers held at the last look, summed over peers
}

// peers says whom the fetch saw, for a stall's error: a host that no peer
// reached (its tracker did not answer, say) and one whose peers hold nothing
// it may ask for call for different fixes. In a 32-host testbed run one host
// gave the swarm up 10 s into the rollout, all others carrying on, and its
// log could not tell which it was.
func (l *liveness) peers() string {
	held := map[torrent.PeerID]uint64{} // two hosts may hold two connections
	for _, pc := range l.t.PeerConns() {
		held[pc.PeerID] = max(held[pc.PeerID], pc.PeerPieces().GetCardinality())
	}
	if len(held) == 0 {
		return "no peer connected"
	}
	var sum uint64
	for _, n := range held {
		sum += n
	}
	return fmt.Sprintf("peers connected: %d, holding %d pieces in all", len(held), sum)
}

// moved reports whether the fetch progressed since the last call.
func (l *liveness) moved() bool {
	moved := false
	st := l.t.Stats()
	if n := st.ChunksReadUseful.Int64(); n > l.useful {
		l.useful, moved = n, true
	}
	var held uint64
	for _, pc := range l.t.PeerConns() {
		held += pc.PeerPieces().GetCardinality()
	}
	moved = moved || held > l.held
	l.held = held
	return moved
}
