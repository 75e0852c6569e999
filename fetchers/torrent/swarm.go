// Package torrent is prestaged's BitTorrent source: a Swarm node (one
// anacrolix/torrent client per process) that seeds verified blobs read-only
// from their paths and fetches images straight into the engine's staging
// file, plus deterministic metainfo (Make) so every host derives the same
// info-hash from the same image without a published .torrent.
//
// Piece hashes (SHA-1, v1) are transport checks only: the engine verifies
// the image's sha256 or sha512 after a fetch, as for every source. Piece
// completion lives in memory; nothing is written beside the image. uTP is
// off, and so are DHT and PEX unless Config turns them on: peers come from
// the caller (tree parents, a host list) and an optional tracker.
//
// torrent imports only fetchers and the anacrolix modules; it knows nothing
// of the engine, the store or HCL.
//
// The figures in this package's comments come from the testbed
// (test/testbed). Until 2026-12-03 its hosts ran the TCP congestion
// control of the machine running it, bbr; since, they run cubic (-cc), and
// the comments that say so were measured that way.
package torrent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	pp "github.com/anacrolix/torrent/peer_protocol"
	"golang.org/x/time/rate"
)

// DefaultStallTimeout is how long a fetch may go without progress when
// Config.StallTimeout is zero.
const DefaultStallTimeout = 30 * time.Second

// ErrBusy: the torrent is already being fetched or seeded from elsewhere in
// this Swarm. Drop it first.
var ErrBusy = errors.New("torrent already active in this swarm")

// PeerIDPrefix starts the peer ID of every prestaged Swarm (BEP 20), so
// that hosts can tell each other from other clients in a swarm: only
// prestaged peers share the reads from the origin (WithOrigin).
const PeerIDPrefix = "-PS0001-"

// dialsPerSecond caps how fast a Swarm dials peers.
const dialsPerSecond = 100

// Config configures a Swarm. The zero value listens on a random port of
// every address, with no tracker and no upload limit.
type Config struct {
	// Listen is the host:port peers connect to (the spec's torrent.listen,
	// e.g. ":6881"). Empty means port 0: any free port.
	Listen string
	// Tracker is an announce URL added to every torrent, besides those of its
	// metainfo. Empty: explicit peers only.
	Tracker string
	// UploadLimit caps what the Swarm uploads, in bytes per second. 0: none.
	UploadLimit int64
	// StallTimeout fails a fetch that receives no useful block and completes
	// no piece for this long (before its first piece: also sees its peers
	// gain none).
	StallTimeout time.Duration
	// DHT and PEX turn on peer discovery beyond explicit peers and the
	// tracker. Off by default: a farm knows its peers.
	DHT, PEX bool
	// Logger receives the BitTorrent client's messages. nil: discarded.
	Logger *slog.Logger
	// Events receives the Swarm's own messages (what a fetch took from the
	// origin). nil: discarded.
	Events *slog.Logger
}

// Swarm is this process's node in the BitTorrent swarms of its images.
// Its methods are safe for concurrent use.
type Swarm struct {
	cfg Config
	cl  *torrent.Client

	mu     sync.Mutex
	active map[metainfo.Hash]*entry

	// pace is the upload limiter, with the cap of fetches far behind.
	pace *pace

	// limits holds, per connection a fetch's gate throttles, whether it is
	// throttled now (throttle). anacrolix reads a connection's request
	// limit under its client lock, so the limit itself is set from a
	// callback that holds it (applyLimit). An entry goes when its
	// connection closes, as every one does when a fetch drops its torrent.
	limits sync.Map // *torrent.PeerConn → *connLimit

	// rare holds the upload order of each torrent a fetch gates
	// (rareFirst), read by the client's UploadChunkDelay.
	rare sync.Map // *torrent.Torrent → *rareFirst
}

// connLimit is a connection's throttle: want is set by the gate, on and
// full are the callback's, under the client lock.
type connLimit struct {
	want atomic.Bool
	on   bool
	full int // the request limit to restore
}

// throttledRequests is what a throttled connection may have outstanding.
// At N=32, 10 Mbit, 256 MiB (one run each, the same morning, against
// 1.50x and 1.51x with 1): 2 took 1.51x, its median host 5-6 s later; 0
// (an anacrolix patch, as anacrolix keeps at least 1) took 1.72x, as the
// few flows carrying rare pieces could not fill a downlink alone. Giving
// the connections that do carry them 32 requests instead of
// maxPeerRequests took 1.57x, and the switch lost 12.2% against 9-10%.
const throttledRequests = 1

// throttle asks that pc be held to throttledRequests outstanding requests
// (on) or given its own limit again; it takes effect at pc's next message.
func (s *Swarm) throttle(pc *torrent.PeerConn, on bool) {
	v, ok := s.limits.Load(pc)
	if !ok {
		if !on {
			return
		}
		v, _ = s.limits.LoadOrStore(pc, &connLimit{})
	}
	v.(*connLimit).want.Store(on)
}

// applyLimit sets pc's request limit to what its throttle wants. It runs in
// a callback, under the client lock.
func (s *Swarm) applyLimit(pc *torrent.PeerConn) {
	v, ok := s.limits.Load(pc)
	if !ok {
		return
	}
	l := v.(*connLimit)
	switch want := l.want.Load(); {
	case want && !l.on:
		l.on, l.full = true, pc.PeerMaxRequests
		pc.PeerMaxRequests = min(pc.PeerMaxRequests, throttledRequests)
	case !want && l.on:
		l.on = false
		pc.PeerMaxRequests = l.full
	}
}

type entry struct {
	t    *torrent.Torrent
	path string // the blob seeded, or "" while fetching
}

// New starts a Swarm listening on cfg.Listen. Close it when done.
func New(cfg Config) (*Swarm, error) {
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	cc, err := clientConfig(cfg)
	if err != nil {
		return nil, err
	}
	s := &Swarm{cfg: cfg, active: make(map[metainfo.Hash]*entry), pace: newPace(cfg.UploadLimit)}
	cc.UploadRateLimiter = s.pace.lim
	cc.Callbacks.ReadMessage = func(pc *torrent.PeerConn, _ *pp.Message) { s.applyLimit(pc) }
	cc.Callbacks.PeerConnClosed = func(pc *torrent.PeerConn) { s.limits.Delete(pc) }
	cc.UploadChunkDelay = s.uploadDelay
	cl, err := torrent.NewClient(cc)
	if err != nil {
		return nil, fmt.Errorf("torrent: listen %q: %w", cfg.Listen, err)
	}
	s.cl = cl
	return s, nil
}

func clientConfig(cfg Config) (*torrent.ClientConfig, error) {
	cc := torrent.NewDefaultClientConfig()
	listen := cfg.Listen
	if listen == "" {
		listen = ":0"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("torrent: listen %q: %w", cfg.Listen, err)
	}
	if ip := net.ParseIP(host); ip != nil {
		cc.DisableIPv6 = ip.To4() != nil
		cc.DisableIPv4 = ip.To4() == nil
	}
	cc.SetListenAddr(net.JoinHostPort(host, port))
	cc.DisableUTP = true // uTP only pays off across congested WANs; TCP fills a LAN
	cc.NoDHT, cc.DisablePEX = !cfg.DHT, !cfg.PEX
	cc.NoDefaultPortForwarding = true
	// Hosts that list each other dial each other both ways, and anacrolix
	// keeps both connections unless told otherwise: at N=32 a host had up
	// to 62 against its 50 per torrent, full hosts turned late peers away
	// ("don't want conn"), and some hosts saw 6-15 of their 31 peers for
	// the rest of the run. Hosts that see different peers rank each other
	// differently and read the same pieces from the origin (1.28x the image
	// at 10 Mbit; 1.08x with one connection per peer). Both ends keep the
	// same one: the connection dialled by the higher peer ID.
	cc.DropDuplicatePeerIds = true
	cc.DisableWebseeds, cc.DisableWebtorrent = true, true
	cc.Seed = true
	// anacrolix dials 10 peers a second, polite on the Internet; a host of a
	// farm's swarm would take seconds to reach the peers a tracker lists.
	cc.DialRateLimiter = rate.NewLimiter(dialsPerSecond, dialsPerSecond)
	// anacrolix considers for requests only the first pieces of its order
	// (priority, then rarest first) up to MaxUnverifiedBytes, 64 MiB by
	// default. Early in a rollout the rarest pieces are those only the first
	// seed holds, so every host waited for the seed to unchoke it while the
	// pieces its peers held lay past the cap. Without the cap, what is in
	// flight is bounded by the connections instead: partial pieces come
	// first in the order, so a host starts a new piece only for a peer that
	// holds none of those it has started (about a piece per peer).
	cc.MaxUnverifiedBytes = 0
	capPeerRequests(cc)
	cc.KeepAliveTimeout = writerWake
	cc.Bep20 = PeerIDPrefix
	cc.DefaultStorage = noDefaultStorage{}
	cc.Slogger = cfg.Logger
	if cc.Slogger == nil {
		cc.Slogger = slog.New(slog.DiscardHandler)
	}
	return cc, nil
}

// writerWake is how often an idle connection's writer looks for blocks to
// send even if nobody woke it. anacrolix v1.61.0's writer
// (peerConnMsgWriter.run) checks for work, then takes the channel that the
// next wake-up closes: a block read for a peer in between wakes nobody, and
// the writer sleeps until its keep-alive timer, KeepAliveTimeout, a minute by
// default, while the peer waits for the requests it has outstanding here.
// On a loaded machine two swarms, one seeding the other, stalled that way
// within 12 to 38 fetches of 12 MiB (8 blocks read, none sent); with this
// bound 400 fetches passed, one of them after 5.1 s. The timer is the
// writer's only other wake-up.
// Each wake of an idle connection costs its request bookkeeping: at 1 s the
// testbed's hosts (N=32, 25 Mbit) used 8.1 s of CPU each and took 1.89x;
// at 5 s, 6.9 s and 1.70x, as without the bound (6.3-7.4 s, 1.67-1.78x).
const writerWake = 5 * time.Second

// maxPeerRequests caps the block requests this host keeps outstanding at
// one peer (anacrolix otherwise honours the peer's reqq, 1024 for another
// anacrolix, 250 by default: 4 to 16 MiB queued at one peer). anacrolix
// balances requests by stealing them from peers with more outstanding and
// cancelling them there, but what a peer already wrote to its socket
// arrives anyway, as a duplicate: with deep queues 17-21% of the blocks a
// host received at N=32 (25 Mbit) were unwanted, and its downlink carried
// 1.25x the image. Eight blocks (128 KiB) fill a LAN link from a few
// peers and leave little to steal. Measured in the testbed, 256 MiB:
//
//	N=32, 25 Mbit:  uncapped 2.22x (16.8% unwanted), 32: 2.29x (11.1%),
//	                16: 1.90x (6.3%), 8: 1.73x (4.4%), 4: 1.80x (2.7%)
//	N=8, 100 Mbit:  uncapped 1.52x (6.0%), 8: 1.30x (0.5%)
//
// The cap is per peer: at N=32 a host keeps 100-130 blocks (about 2 MiB)
// requested from some 15 peers at once. Tried and left out (N=32, 25 Mbit):
// a cap over all peers, kept through anacrolix's request callbacks, of 16
// or 24 blocks cut the unwanted blocks to 0.6-1.2% but took 1.82x, 1.82x
// and 1.83x against 1.69x and 1.80x without it in the same hour (a fourth
// run, traced, 1.72x), and each host used more CPU (8.5 s against 7.2-7.9
// s). 64 KiB blocks (4 per peer) took 1.85x and as much CPU per host as
// 16 KiB ones (7.9 s): the CPU does not go to per-block work. BEP 3 also
// has clients close connections that ask for more than 16 KiB. At N=32,
// 10 Mbit, 12 took 1.53x against 1.50-1.51x for 8 (one run each, the same
// morning).
const maxPeerRequests = 8

// capPeerRequests applies maxPeerRequests to every connection: a peer's
// reqq is read before anacrolix takes it, and a peer that sends none
// starts from anacrolix's default, capped too.
func capPeerRequests(cc *torrent.ClientConfig) {
	cc.Callbacks.ReadExtendedHandshake = func(_ *torrent.PeerConn, d *pp.ExtendedHandshakeMessage) {
		if d.Reqq <= 0 || d.Reqq > maxPeerRequests {
			d.Reqq = maxPeerRequests
		}
	}
	cc.Callbacks.PeerConnAdded = append(cc.Callbacks.PeerConnAdded, func(c *torrent.PeerConn) {
		c.PeerMaxRequests = min(c.PeerMaxRequests, maxPeerRequests)
	})
}

// logf logs at info level to the Config's Logger, if any.
func (s *Swarm) logf(format string, a ...any) {
	if s.cfg.Events != nil {
		s.cfg.Events.Info(fmt.Sprintf(format, a...))
	}
}

// Addr is the address the Swarm accepts peers on.
func (s *Swarm) Addr() net.Addr {
	if as := s.cl.ListenAddrs(); len(as) > 0 {
		return as[0]
	}
	return nil
}

// Port is the TCP port the Swarm accepts peers on, for explicit peer lists.
func (s *Swarm) Port() int { return s.cl.LocalPort() }

// Close drops every torrent and stops the client.
func (s *Swarm) Close() error {
	return errors.Join(s.cl.Close()...)
}

// Seed serves the complete, verified blob at blobPath as mi's torrent until
// Drop or Close. The blob is opened read-only and never copied. Its pieces
// are taken as complete without rehashing: the store wrote the blob only
// after its sha256 or sha512 matched, so hashing 10 GB again here would prove
// nothing; its size is checked against the metainfo. A metainfo made for
// other bytes shows up as peers rejecting our pieces, not as corruption.
func (s *Swarm) Seed(ctx context.Context, mi *metainfo.MetaInfo, blobPath string) error {
	ih := mi.HashInfoBytes()
	info, err := singleFileInfo(mi)
	if err != nil {
		return fmt.Errorf("torrent %s: seed %s: %w", ih.HexString(), blobPath, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("torrent %s: seed %s: %w", ih.HexString(), blobPath, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.active[ih]; ok {
		if e.path == blobPath {
			return nil
		}
		return fmt.Errorf("torrent %s: seed %s: %w", ih.HexString(), blobPath, ErrBusy)
	}
	f, err := openBlob(blobPath, info.Length)
	if err != nil {
		return fmt.Errorf("torrent %s: seed: %w", ih.HexString(), err)
	}
	b := newBacking(info, f, nil, func(int64, int64) bool { return true })
	b.onDone = f.Close
	t, err := s.addLocked(mi, b)
	if err != nil {
		b.Close()
		return fmt.Errorf("torrent %s: seed %s: %w", ih.HexString(), blobPath, err)
	}
	s.active[ih] = &entry{t: t, path: blobPath}
	return nil
}

func openBlob(path string, size int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != size {
		err = fmt.Errorf("%s has %d bytes, the metainfo %d", path, fi.Size(), size)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Drop stops seeding or fetching the torrent with info-hash ih. Once it
// returns, the Swarm no longer touches the blob or dst.
func (s *Swarm) Drop(ih metainfo.Hash) {
	s.mu.Lock()
	e, ok := s.active[ih]
	delete(s.active, ih)
	s.mu.Unlock()
	if ok {
		e.t.Drop()
	}
}

// Stats are what the Swarm has done since it started.
type Stats struct {
	Peers    int   // connected peers, over all torrents
	Uploaded int64 // piece bytes sent to peers
}

// Stats reports the Swarm's counters.
func (s *Swarm) Stats() Stats {
	cs := s.cl.Stats()
	return Stats{Peers: cs.ActivePeers, Uploaded: cs.BytesWrittenData.Int64()}
}

// Seeding lists the info-hashes the Swarm seeds from a blob.
func (s *Swarm) Seeding() []metainfo.Hash {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []metainfo.Hash
	for ih, e := range s.active {
		if e.path != "" {
			out = append(out, ih)
		}
	}
	return out
}

// addLocked adds mi's torrent over b. Only our own peers and trackers are
// used: webseeds, DHT nodes and metainfo sources of a published .torrent
// would reach outside the farm. Called with s.mu held.
func (s *Swarm) addLocked(mi *metainfo.MetaInfo, b *backing) (*torrent.Torrent, error) {
	spec, err := torrent.TorrentSpecFromMetaInfoErr(mi)
	if err != nil {
		return nil, err
	}
	spec.Storage = b
	spec.DisableInitialPieceCheck = true
	spec.Webseeds, spec.DhtNodes, spec.Sources = nil, nil, nil
	if s.cfg.Tracker != "" {
		spec.Trackers = append(spec.Trackers, []string{s.cfg.Tracker})
	}
	t, isNew, err := s.cl.AddTorrentSpec(spec)
	if err != nil {
		return nil, err
	}
	if !isNew {
		return nil, ErrBusy
	}
	return t, nil
}

// singleFileInfo decodes mi's info and checks it describes one file, as
// every prestaged torrent does.
func singleFileInfo(mi *metainfo.MetaInfo) (*metainfo.Info, error) {
	info, err := mi.UnmarshalInfo()
	if err != nil {
		return nil, fmt.Errorf("bad metainfo: %w", err)
	}
	if len(info.Files) != 0 || info.Length <= 0 || !info.HasV1() {
		return nil, fmt.Errorf("bad metainfo: not a single-file v1 torrent")
	}
	return &info, nil
}
