package torrent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
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
// again every Config.PeerOffer while it runs: a host that completes the
// image seeds it a second later from its serve, and its peers find that
// seed only when they offer its address again. nil means none: the
// tracker alone finds peers.
type PeersFunc func() []string

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
	return &Fetcher{s: s, metainfo: metainfo, peers: peers, window: s.cfg.Window}
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

// Fetch implements fetchers.Fetcher. Pieces land in dst in any order, each
// written once, whole, after its SHA-1 passed. Pieces entirely below
// dst.Offset() are taken as complete and not fetched again. While it runs, the Swarm also serves the pieces it has
// from dst to other peers. Fetch returns nil once every piece is in dst,
// and drops the torrent: to keep seeding, the caller calls Seed with the
// blob's path once the engine committed it.
//
// Fetch has no stall detection of its own: the caller wraps it in a
// watchdog (fetchers.WithStallTimeout with Config.StallTimeout, as the
// engine does every source), and Fetch beats dst while blocks and pieces
// arrive, the metainfo is sought, or the swarm may still be quiet
// (beatsQuiet). Errors: Permanent when the metainfo does not describe this
// image; ctx's error when ctx ends first (the watchdog's, wrapping
// fetchers.ErrStalled, when it cut the fetch).
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
	t, err := f.s.addActive(ih, func() (*torrent.Torrent, error) { return f.s.addLocked(mi, b) })
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

// findMetainfo asks f.metainfo until it answers, fails permanently, ctx
// ends, or the stall timeout (but at least Config.MetainfoPatience) passed
// since the first try: a lost GET of a .torrent is no reason to leave the
// swarm for the mirror, which would then send the image whole. dst is
// beaten while the tries last, also during a try, so that the watchdog
// around the fetch does not end a try that may still get an answer. Each
// failed try is logged.
func (f *Fetcher) findMetainfo(ctx context.Context, req fetchers.Request, dst fetchers.Dst) (*metainfo.MetaInfo, error) {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     f.s.cfg.MetainfoRetry,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          2,
		MaxInterval:         f.s.cfg.MetainfoRetryMax,
	}
	defer beatWhile(f.s.beatEvery(), dst)()
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
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(max(f.s.cfg.StallTimeout, f.s.cfg.MetainfoPatience)),
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

// addActive adds torrent ih with add and marks it active, or fails with
// ErrBusy while ih is active already; it holds s.mu throughout so that no
// two fetches or info requests add one torrent at once.
func (s *Swarm) addActive(ih metainfo.Hash, add func() (*torrent.Torrent, error)) (*torrent.Torrent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.active[ih]; ok {
		return nil, ErrBusy
	}
	t, err := add()
	if err != nil {
		return nil, err
	}
	s.active[ih] = &entry{t: t}
	return t, nil
}

// wait returns once every piece of b is complete, or fails on a write
// error or when ctx ends (the watchdog's stall among them).
func (f *Fetcher) wait(ctx context.Context, req fetchers.Request, t *torrent.Torrent, b *backing, dst fetchers.Dst) error {
	cfg := &f.s.cfg
	peers := f.s.refresher(ctx, t, f.peers, "image "+req.Image)
	defer peers.stop()
	refresh := time.NewTicker(cfg.PeerOffer)
	defer refresh.Stop()
	v := newView(t, f.s.cl.PeerID(), len(b.state), cfg.GateTick)
	o := f.startOrigin(ctx, req, t, b, v)
	defer o.stop()
	pick := newPicker(len(b.state), o.window, f.inOrder)
	pick.raise(t, b)
	gated, step, stopGate := f.startGate(t, b, v)
	defer stopGate()
	w := newWatch(cfg, t, o.quiet, dst, f.s.beatEvery())
	defer w.stop()
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
			w.moved(time.Now())
		case now := <-w.looks():
			w.look(now)
		case <-refresh.C:
			peers.refresh()
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), fetchers.ErrStalled) {
				n, _ := b.progress()
				f.s.logf("torrent: image %s: stalled at %d of %d pieces (%s)", req.Image, n, len(b.state), w.peers())
			}
			return ctx.Err()
		}
	}
}

// originRun is the origin feed of one wait: what the stall patience asks
// of it, the in-order window to use, and stop.
type originRun struct {
	quiet  func() quietState
	window int
	stop   func()
}

// startOrigin starts feeding pieces no peer holds from the origin, when the
// fetcher has one.
func (f *Fetcher) startOrigin(ctx context.Context, req fetchers.Request, t *torrent.Torrent, b *backing, v *view) originRun {
	o := originRun{quiet: func() quietState { return quietState{} }, window: f.window, stop: func() {}}
	if f.origin == nil {
		return o
	}
	feed := newOriginFeed(&f.s.cfg, f.origin, req, t, b, v)
	o.quiet = feed.quiet
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
	cfg := &f.s.cfg
	g := newGate(cfg, t, b, v)
	g.fed = f.origin != nil
	g.throttle = f.s.throttle
	g.step(time.Now())
	order, scratch := &rareFirst{cfg: cfg}, make([]int, len(b.state))
	order.update(time.Now(), v, b, scratch)
	f.s.rare.Store(t, order)
	pc := &pacer{p: f.s.pace, cfg: cfg}
	tick := time.NewTicker(cfg.GateTick)
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
