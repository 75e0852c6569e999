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
// The package is mechanism plus policy: the anacrolix glue (swarm.go,
// fetch.go, storage.go, gate.go, origin.go, pace.go, rarefirst.go) reads
// the client and applies decisions that pure functions of a snapshot make
// (policy.go, patience.go), tuned by Config. A fetch has no stall timer: it
// beats the caller's watchdog (fetchers.WithStallTimeout) while it makes
// progress (progress.go).
//
// torrent imports only fetchers and the anacrolix modules; it knows nothing
// of the engine, the store or HCL.
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

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	pp "github.com/anacrolix/torrent/peer_protocol"
	"golang.org/x/time/rate"
)

// ErrBusy: the torrent is already being fetched or seeded from elsewhere in
// this Swarm. Drop it first.
var ErrBusy = errors.New("torrent already active in this swarm")

// PeerIDPrefix starts the peer ID of every prestaged Swarm (BEP 20), so
// that hosts can tell each other from other clients in a swarm: only
// prestaged peers share the reads from the origin (WithOrigin).
const PeerIDPrefix = "-PS0001-"

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

// throttle asks that pc be held to Config.ThrottledRequests outstanding requests
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
		pc.PeerMaxRequests = min(pc.PeerMaxRequests, s.cfg.ThrottledRequests)
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
	cfg = cfg.withDefaults()
	cc, err := clientConfig(cfg)
	if err != nil {
		return nil, err
	}
	s := &Swarm{cfg: cfg, active: make(map[metainfo.Hash]*entry), pace: newPace(cfg.UploadLimit, cfg.PaceBurst)}
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
	// Hosts that list each other dial each other both ways; keeping both
	// connections fills the 50 per torrent and splits the ranks. Both ends
	// keep the one dialled by the higher peer ID.
	cc.DropDuplicatePeerIds = true
	cc.DisableWebseeds, cc.DisableWebtorrent = true, true
	cc.Seed = true
	// anacrolix dials 10 peers a second, polite on the Internet but slow on a farm.
	cc.DialRateLimiter = rate.NewLimiter(rate.Limit(cfg.DialsPerSecond), cfg.DialsPerSecond)
	// anacrolix considers only the first 64 MiB of its piece order for
	// requests, and early in a rollout those are the pieces only the first
	// seed holds; uncapped, the connections bound what is in flight.
	cc.MaxUnverifiedBytes = 0
	capPeerRequests(cc, cfg.MaxPeerRequests)
	cc.KeepAliveTimeout = cfg.WriterWake // see Config.WriterWake and docs/swarm.md
	cc.Bep20 = PeerIDPrefix
	cc.DefaultStorage = noDefaultStorage{}
	cc.Slogger = cfg.Logger
	if cc.Slogger == nil {
		cc.Slogger = slog.New(slog.DiscardHandler)
	}
	return cc, nil
}

// capPeerRequests holds every connection to most requests outstanding
// (Config.MaxPeerRequests), against anacrolix's 250 to 1024: requests it
// steals from a busy peer arrive anyway, as duplicates. A peer's reqq is
// read before anacrolix takes it, and a peer that sends none starts from
// anacrolix's default, capped too.
func capPeerRequests(cc *torrent.ClientConfig, most int) {
	cc.Callbacks.ReadExtendedHandshake = func(_ *torrent.PeerConn, d *pp.ExtendedHandshakeMessage) {
		if d.Reqq <= 0 || d.Reqq > most {
			d.Reqq = most
		}
	}
	cc.Callbacks.PeerConnAdded = append(cc.Callbacks.PeerConnAdded, func(c *torrent.PeerConn) {
		c.PeerMaxRequests = min(c.PeerMaxRequests, most)
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
