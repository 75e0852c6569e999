package torrent

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/tracker"
	"github.com/prestaged/prestaged/internal/safe"
)

// peerRefresher offers a torrent's explicit peers to the client, and asks
// the Swarm's tracker itself while the torrent has no peer at all:
// anacrolix v1.61.0 waits a minute after a failed announce, far past a
// stall timeout, and the tracker often shares the mirror's busy host.
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
	ctx, cancel := context.WithTimeout(r.ctx, r.s.cfg.PeerRefresh)
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
