package node

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"sync"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers/torrent"
	"github.com/prestaged/prestaged/internal/safe"
	"github.com/prestaged/prestaged/sources"
	"github.com/prestaged/prestaged/spec"
)

// seedRescan is how often serve looks for images that apply completed
// since, to seed them. SIGHUP rescans at once. apply leaves the swarm when
// its image is installed, and serve takes over its seeding: the sooner, the
// less peers still downloading miss it. A scan stats one file per image.
const seedRescan = time.Second

// torrentSeeder is serve's side of the swarm: it seeds every complete image
// of the spec, pinned or endorsed, from blobs/ on torrent.listen, and answers
// GET /v1/torrents/<algo>/<hex> with the image's metainfo so children join
// the swarm without a published .torrent. Metainfo is derived from the
// blob once and kept in <store>/torrents/, so a restart does not rehash.
// fetchers/peer knows nothing of torrents: the handler sits beside the peer
// server in serve's mux.
type torrentSeeder struct {
	st   *store.Store
	log  *slog.Logger
	kick chan struct{}

	mu      sync.Mutex
	swarm   *torrent.Swarm // nil until a spec has a torrent block
	cfg     torrent.Config
	on      bool                        // the spec has a torrent block
	pinned  map[digest.Digest]seedImage // the spec's images with a digest
	endorse map[digest.Digest]seedImage // as the accepted image lists give them
	images  map[digest.Digest]seedImage // both; empty without a torrent block
	metas   map[digest.Digest]*metainfo.MetaInfo
	seeding map[digest.Digest]seeded
	making  map[digest.Digest]*making
	ctx     context.Context // serve's: ends derivations on shutdown
}

// seeded is a torrent the swarm seeds, and the image it was made for.
type seeded struct {
	ih  metainfo.Hash
	img seedImage
}

// seedImage is what fixes an image's metainfo besides its bytes. An image
// that names its torrent (torrentURL or infoHash) is seeded as exactly that
// torrent; only one that names neither gets metainfo derived under name.
type seedImage struct {
	name       string // path.Base of the image's path on the mirror
	size       int64
	torrentURL string
	infoHash   string // 40 hex digits, as the spec pins it
}

// named says the image's torrent is given, not derived.
func (img seedImage) named() bool { return img.torrentURL != "" || img.infoHash != "" }

// accepts says whether mi is the image's torrent: the pinned info-hash,
// else the metainfo kept from its torrent_url, else the derived one.
func (img seedImage) accepts(mi *metainfo.MetaInfo) bool {
	info, err := mi.UnmarshalInfo()
	switch {
	case err != nil || info.TotalLength() != img.size:
		return false
	case img.infoHash != "":
		return torrent.InfoHash(mi) == img.infoHash
	case img.torrentURL != "":
		return mi.Comment == sources.KeptFrom(img.torrentURL)
	}
	return info.Name == img.name && info.PieceLength == torrent.DefaultPieceLength
}

// infoHash is the info-hash d is seeded as, "" when it is not seeded.
func (ts *torrentSeeder) infoHash(d digest.Digest) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if sd, ok := ts.seeding[d]; ok {
		return sd.ih.HexString()
	}
	return ""
}

// startTorrentSeeder configures the seeder for s and rescans the store
// until ctx ends. It fails when s has a torrent block whose listen address
// cannot be bound.
func startTorrentSeeder(ctx context.Context, s *spec.Spec, st *store.Store, log *slog.Logger) (*torrentSeeder, error) {
	ts := &torrentSeeder{st: st, log: log, ctx: ctx, kick: make(chan struct{}, 1),
		metas: map[digest.Digest]*metainfo.MetaInfo{}, seeding: map[digest.Digest]seeded{},
		making: map[digest.Digest]*making{}}
	if err := ts.configure(s); err != nil {
		return nil, err
	}
	safe.Go(func() { ts.loop(ctx) })
	return ts, nil
}

// configure takes the images of s (a new spec on SIGHUP): torrents of
// images that left it are dropped, new ones are seeded at the next scan.
// The listen address and tracker are those of the first spec with a
// torrent block; changing them needs a restart.
func (ts *torrentSeeder) configure(s *spec.Spec) error {
	pinned := map[digest.Digest]seedImage{}
	if s.Torrent != nil {
		if err := ts.startSwarm(s); err != nil {
			return err
		}
		for _, img := range s.Images {
			if !img.Digest.IsZero() && img.Size > 0 {
				pinned[img.Digest] = seedImage{name: path.Base(img.Path), size: img.Size,
					torrentURL: img.TorrentURL, infoHash: img.InfoHash}
			}
		}
	}
	ts.mu.Lock()
	ts.on, ts.pinned = s.Torrent != nil, pinned
	ts.refreshLocked()
	ts.mu.Unlock()
	ts.rescanSoon()
	return nil
}

// setEndorsed takes the endorsed images of the lists this host accepted
// (serveAllowed calls it again whenever they change).
func (ts *torrentSeeder) setEndorsed(images map[digest.Digest]seedImage) {
	ts.mu.Lock()
	ts.endorse = images
	ts.refreshLocked()
	ts.mu.Unlock()
	ts.rescanSoon()
}

// refreshLocked recomputes the images to seed and drops torrents of those
// that left. A pinned image wins over an endorsed one of the same digest.
func (ts *torrentSeeder) refreshLocked() {
	images := map[digest.Digest]seedImage{}
	if ts.on {
		maps.Copy(images, ts.endorse)
		maps.Copy(images, ts.pinned)
	}
	ts.images = images
	for d, sd := range ts.seeding {
		if img, ok := images[d]; !ok || img != sd.img {
			ts.swarm.Drop(sd.ih)
			delete(ts.seeding, d)
			ts.log.Info("torrent: stopped seeding", "digest", d.String(), "infohash", sd.ih.HexString())
		}
	}
	for d, mi := range ts.metas {
		if img, ok := images[d]; !ok || !img.accepts(mi) {
			delete(ts.metas, d)
		}
	}
}

func (ts *torrentSeeder) startSwarm(s *spec.Spec) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	cfg := sources.SwarmConfig(s, s.Torrent.Listen)
	if ts.swarm != nil {
		if cfg.Listen != ts.cfg.Listen || cfg.Tracker != ts.cfg.Tracker {
			ts.log.Warn("torrent listen or tracker changed; restart prestaged serve to use them",
				"listen", ts.cfg.Listen, "tracker", ts.cfg.Tracker)
		}
		return nil
	}
	sw, err := torrent.New(cfg)
	if err != nil {
		return fmt.Errorf("serve: %w (is another prestaged serve or BitTorrent client on it?)", err)
	}
	ts.swarm, ts.cfg = sw, cfg
	ts.log.Info("torrent: listening", "listen", sw.Addr().String(), "tracker", cfg.Tracker)
	return nil
}

// collectors are the seeder's figures for serve's GET /metrics (through
// whenTorrent: only with a torrent block).
func (ts *torrentSeeder) collectors() []prometheus.Collector {
	stats := func() (torrent.Stats, int) {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if ts.swarm == nil {
			return torrent.Stats{}, 0
		}
		return ts.swarm.Stats(), len(ts.seeding)
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "prestaged_torrent_seeding",
			Help: "Images seeded in the swarm now."},
			func() float64 { _, n := stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "prestaged_torrent_peers",
			Help: "Swarm peers connected now."},
			func() float64 { st, _ := stats(); return float64(st.Peers) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "prestaged_torrent_uploaded_bytes_total",
			Help: "Image bytes sent to swarm peers."},
			func() float64 { st, _ := stats(); return float64(st.Uploaded) }),
	}
}

// Close stops seeding.
func (ts *torrentSeeder) Close() error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.swarm == nil {
		return nil
	}
	return ts.swarm.Close()
}

func (ts *torrentSeeder) rescanSoon() {
	select {
	case ts.kick <- struct{}{}:
	default:
	}
}

func (ts *torrentSeeder) loop(ctx context.Context) {
	t := time.NewTicker(seedRescan)
	defer t.Stop()
	for {
		ts.rescan(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-ts.kick:
		}
	}
}

// rescan seeds complete blobs not seeded yet and drops torrents whose blob
// is gone (collected by apply).
func (ts *torrentSeeder) rescan(ctx context.Context) {
	ts.mu.Lock()
	images := make(map[digest.Digest]seedImage, len(ts.images))
	for d, img := range ts.images {
		images[d] = img
	}
	ts.mu.Unlock()
	for d, img := range images {
		if ctx.Err() != nil {
			return
		}
		blob, complete := ts.blob(d, img)
		ts.mu.Lock()
		sd, seeding := ts.seeding[d]
		if seeding && !complete {
			ts.swarm.Drop(sd.ih)
			delete(ts.seeding, d)
		}
		ts.mu.Unlock()
		if seeding || !complete {
			continue
		}
		if err := ts.seed(ctx, d, img, blob); err != nil {
			ts.log.Error("torrent: cannot seed", "digest", d.String(), "err", err)
		}
	}
}

func (ts *torrentSeeder) seed(ctx context.Context, d digest.Digest, img seedImage, blob store.Blob) error {
	mi, err := ts.metainfo(ctx, d, img, blob.Path)
	if err != nil {
		return err
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if now, ok := ts.images[d]; !ok || now != img {
		return nil // the spec changed while the metainfo was made
	}
	if err := ts.swarm.Seed(ctx, mi, blob.Path); err != nil {
		return err
	}
	ts.seeding[d] = seeded{ih: mi.HashInfoBytes(), img: img}
	ts.log.Info("torrent: seeding", "image", img.name, "digest", d.String(), "infohash", torrent.InfoHash(mi), "named", img.named())
	return nil
}

// blob is d's complete blob, when the store holds it with the image's size.
func (ts *torrentSeeder) blob(d digest.Digest, img seedImage) (store.Blob, bool) {
	b, ok := ts.st.Blob(d)
	return b, ok && b.Size == img.size
}

// metainfo is d's metainfo: from memory, from <store>/torrents/, or derived
// from the complete blob at blobPath. It is derived once however many ask
// at a time, under serve's context: a child that gives up waiting does not
// cancel the hashing of 10 GB the next child needs.
func (ts *torrentSeeder) metainfo(ctx context.Context, d digest.Digest, img seedImage, blobPath string) (*metainfo.MetaInfo, error) {
	ts.mu.Lock()
	if mi, ok := ts.metas[d]; ok && img.accepts(mi) {
		ts.mu.Unlock()
		return mi, nil
	}
	m, busy := ts.making[d]
	if !busy {
		m = &making{done: make(chan struct{})}
		ts.making[d] = m
		safe.Go(func() { ts.make(d, img, blobPath, m) })
	}
	ts.mu.Unlock()
	select {
	case <-m.done:
		return m.mi, m.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// making is metainfo being loaded or derived.
type making struct {
	done chan struct{} // closed when mi or err is set
	mi   *metainfo.MetaInfo
	err  error
}

func (ts *torrentSeeder) make(d digest.Digest, img seedImage, blobPath string, m *making) {
	m.mi, m.err = ts.loadOrMake(ts.ctx, d, img, blobPath)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if m.err == nil {
		ts.metas[d] = m.mi
	}
	delete(ts.making, d)
	close(m.done)
}

// loadCachedMetainfo returns the metainfo the store keeps for d if it is img's.
func loadCachedMetainfo(st *store.Store, d digest.Digest, img seedImage) (*metainfo.MetaInfo, bool) {
	mi, err := sources.KeptMetainfo(st, d)
	if err != nil {
		return nil, false
	}
	return mi, img.accepts(mi)
}

// loadOrMake reads the cached metainfo of d (kept by an apply that fetched
// it from the swarm, or by an earlier serve); failing that, it takes an
// image's named torrent from its torrent_url, checked piece by piece
// against the blob, or derives metainfo for an image that names none. What
// it gets is cached.
func (ts *torrentSeeder) loadOrMake(ctx context.Context, d digest.Digest, img seedImage, blobPath string) (*metainfo.MetaInfo, error) {
	if mi, ok := loadCachedMetainfo(ts.st, d, img); ok {
		return mi, nil
	}
	start := time.Now()
	var mi *metainfo.MetaInfo
	var err error
	switch {
	case img.torrentURL != "":
		mi, err = namedMetainfo(ctx, img, blobPath)
	case img.infoHash != "":
		return nil, fmt.Errorf("image %s names infohash %s, and no apply kept that torrent's metainfo here: "+
			"fetch the image from the swarm again, or give it a torrent_url", img.name, img.infoHash)
	default:
		mi, err = torrent.MakeFile(ctx, blobPath, img.name, torrent.DefaultPieceLength)
	}
	if err != nil {
		return nil, err
	}
	kept, err := sources.KeepMetainfo(ts.st, d, mi, img.torrentURL)
	if err != nil {
		ts.log.Warn("torrent: cannot cache metainfo; a restart will get it again", "path", ts.st.TorrentPath(d), "err", err)
	}
	ts.log.Info("torrent: metainfo ready", "image", img.name, "digest", d.String(), "infohash", torrent.InfoHash(kept),
		"from", cmp.Or(img.torrentURL, "the blob"), "seconds", time.Since(start).Seconds())
	return kept, nil
}

// namedMetainfo fetches img's torrent_url and checks that its pieces are
// the blob's: serve seeds that torrent, never one it would have to invent.
func namedMetainfo(ctx context.Context, img seedImage, blobPath string) (*metainfo.MetaInfo, error) {
	mi, err := sources.LoadMetainfo(ctx, img.torrentURL)
	if err != nil {
		return nil, fmt.Errorf("torrent_url %s: %w", img.torrentURL, err)
	}
	if img.infoHash != "" && torrent.InfoHash(mi) != img.infoHash {
		return nil, fmt.Errorf("torrent_url %s has info-hash %s, the image's infohash is %s", img.torrentURL, torrent.InfoHash(mi), img.infoHash)
	}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		return nil, fmt.Errorf("torrent_url %s: %w", img.torrentURL, err)
	}
	if len(info.Files) > 0 || info.Length != img.size {
		return nil, fmt.Errorf("torrent_url %s: not a single file of %d bytes", img.torrentURL, img.size)
	}
	ours, err := torrent.MakeFile(ctx, blobPath, info.Name, info.PieceLength)
	if err != nil {
		return nil, err
	}
	oi, err := ours.UnmarshalInfo()
	if err != nil || !bytes.Equal(oi.Pieces, info.Pieces) {
		return nil, fmt.Errorf("torrent_url %s: its pieces are not this blob's", img.torrentURL)
	}
	return mi, nil
}

// ServeHTTP answers GET /v1/torrents/{algo}/{hex}: the metainfo of a
// complete image of the spec, 404 for anything else. Nothing is derived
// from content still being fetched.
func (ts *torrentSeeder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d, err := digest.FromHex(digest.Algo(r.PathValue("algo")), r.PathValue("hex"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	ts.mu.Lock()
	img, ok := ts.images[d]
	tracker := ts.cfg.Tracker
	ts.mu.Unlock()
	blob, complete := ts.blob(d, img)
	if !ok || !complete {
		http.Error(w, "no complete image with this digest to make a torrent of", http.StatusNotFound)
		return
	}
	mi, err := ts.metainfo(r.Context(), d, img, blob.Path)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			ts.log.Error("torrent: metainfo", "digest", d.String(), "err", err)
		}
		http.Error(w, "cannot make the torrent", http.StatusInternalServerError)
		return
	}
	out := *mi
	out.Announce = tracker // outside the info: the info-hash is unchanged
	var buf bytes.Buffer
	if err := out.Write(&buf); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-bittorrent")
	w.Write(buf.Bytes())
}

// serveHandler puts the torrents endpoint in front of the peer server.
func serveHandler(peerSrv http.Handler, ts *torrentSeeder) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/torrents/{algo}/{hex}", ts)
	mux.Handle("/", peerSrv)
	return mux
}
