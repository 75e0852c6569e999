package torrent

import (
	"fmt"
	"time"

	"github.com/anacrolix/torrent"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/internal/safe"
)

// watch tells the stall watchdog around a fetch (fetchers.WithStallTimeout)
// what counts as progress: it beats dst when a useful block arrives from a
// peer, a piece lands (from a peer or the origin), or the fetch's peers
// gain pieces, and, while beatsQuiet says the swarm may still be quiet,
// when none of these happened. A 4 MiB piece shared among many slow peers
// can take longer than the stall timeout, and a host may have nothing to
// ask for while the pieces it lacks are on their way from the origin or
// gated: either would otherwise hand a live swarm over to the mirror.
type watch struct {
	cfg   *Config
	live  liveness
	quiet func() quietState
	dst   fetchers.Dst
	tick  *time.Ticker
	last  time.Time // the latest progress
}

func newWatch(cfg *Config, t *torrent.Torrent, quiet func() quietState, dst fetchers.Dst, every time.Duration) *watch {
	w := &watch{cfg: cfg, live: liveness{t: t}, quiet: quiet, dst: dst, tick: time.NewTicker(every)}
	w.moved(time.Now()) // the swarm's clock starts with the wait
	return w
}

// looks ticks when the fetch should look for progress short of a piece.
func (w *watch) looks() <-chan time.Time { return w.tick.C }

// moved records progress at now and beats.
func (w *watch) moved(now time.Time) {
	w.last = now
	w.dst.Beat()
}

// look checks for progress short of a piece, and beats while the swarm
// may still be quiet.
func (w *watch) look(now time.Time) {
	if w.live.moved() {
		w.moved(now)
		return
	}
	if beatsQuiet(w.cfg, w.quiet(), now.Sub(w.last)) {
		w.dst.Beat()
	}
}

// peers says whom the fetch saw, for a stall's log line.
func (w *watch) peers() string { return w.live.peers() }

func (w *watch) stop() { w.tick.Stop() }

// liveness reads the client's signs of progress short of a piece: useful
// blocks received, and pieces its peers hold.
type liveness struct {
	t      *torrent.Torrent
	useful int64  // useful blocks received at the last look
	held   uint64 // pieces peers held at the last look, summed over peers
}

// peers says whom the fetch saw: a host that no peer reached (its tracker
// did not answer, say) and one whose peers hold nothing it may ask for
// call for different fixes.
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

// beatEvery is how often a fetch looks for progress and beats its
// watchdog: Config.LookEvery, and four times per stall timeout, so that a
// watchdog with that timeout hears of progress in time.
func (s *Swarm) beatEvery() time.Duration { return min(s.cfg.LookEvery, s.cfg.StallTimeout/4) }

// beatWhile beats dst every d until the returned stop is called.
func beatWhile(d time.Duration, dst fetchers.Dst) (stop func()) {
	beats := time.NewTicker(d)
	done := make(chan struct{})
	safe.Go(func() {
		defer beats.Stop()
		for {
			select {
			case <-beats.C:
				dst.Beat()
			case <-done:
				return
			}
		}
	})
	return func() { close(done) }
}
