package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/mirror"
	"github.com/prestaged/prestaged/fetchers/torrent"
	"github.com/prestaged/prestaged/spec"
)

func init() { sourceMakers[spec.SourceTorrent] = torrentSource }

// metainfoTimeout bounds one request for a .torrent (torrent_url or a
// parent's /v1/torrents): metainfo is small, a slow answer is a dead host.
const metainfoTimeout = 5 * time.Second

// maxMetainfo caps a .torrent read: 4 MiB pieces of a 1 TB image take 5 MB.
const maxMetainfo = 16 << 20

// closers run when apply or verify ends (runClosers): process-wide
// resources that sources open lazily, such as the swarm.
var (
	closersMu sync.Mutex
	closers   []func() error
)

func atExit(f func() error) {
	closersMu.Lock()
	defer closersMu.Unlock()
	closers = append(closers, f)
}

// runClosers runs and forgets every closer, last registered first.
func runClosers() error {
	closersMu.Lock()
	cs := closers
	closers = nil
	closersMu.Unlock()
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		errs = append(errs, cs[i]())
	}
	return errors.Join(errs...)
}

// applySwarm is the one Swarm of an apply or verify process, started when
// the first image asks for the torrent source. It listens on an ephemeral
// port of torrent.listen's host: `serve` owns torrent.listen itself.
var applySwarm struct {
	once sync.Once
	s    *torrent.Swarm
	err  error
}

func processSwarm(s *spec.Spec) (*torrent.Swarm, error) {
	applySwarm.once.Do(func() {
		host, _, err := net.SplitHostPort(s.Torrent.Listen)
		if err != nil {
			applySwarm.err = fmt.Errorf("torrent: listen %q: %w", s.Torrent.Listen, err)
			return
		}
		cfg := swarmConfig(s, net.JoinHostPort(host, "0"))
		cfg.Events = slog.New(slog.NewTextHandler(os.Stderr, nil))
		applySwarm.s, applySwarm.err = torrent.New(cfg)
		if applySwarm.err == nil {
			atExit(applySwarm.s.Close)
		}
	})
	return applySwarm.s, applySwarm.err
}

// swarmConfig is the Swarm configuration a spec asks for, listening on
// listen. Uploads share peer.upload_limit.
func swarmConfig(s *spec.Spec, listen string) torrent.Config {
	cfg := torrent.Config{Listen: listen, Tracker: s.Torrent.Tracker, StallTimeout: s.StallTimeout}
	if s.Peer != nil {
		cfg.UploadLimit = s.Peer.UploadLimit.BytesPerSecond()
	}
	return cfg
}

// torrentSource is the swarm source of img. It has its own stall detection
// and no retry: a swarm that stalls hands over to the next source, which
// resumes from the pieces already landed in order.
func torrentSource(s *spec.Spec, img *spec.Image, _ spec.Source) ([]fetchers.Named, error) {
	if s.Torrent == nil {
		return nil, errors.New("the spec has no torrent block")
	}
	sw, err := processSwarm(s)
	if err != nil {
		return nil, err
	}
	var used atomic.Pointer[metainfo.MetaInfo]
	peers := torrentPeers(s)
	find := imageMetainfo(s, img, sw, peers)
	f := sw.Fetcher(func(ctx context.Context, req fetchers.Request) (*metainfo.MetaInfo, error) {
		mi, err := find(ctx, req)
		used.Store(mi)
		return mi, err
	}, peers)
	if hasChildren(s) {
		f = f.InOrder(inOrderWindow)
	}
	if o, err := imageOrigin(s, img); err != nil {
		return nil, err
	} else if o != nil {
		f = f.WithOrigin(o)
	}
	record := fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
		swarmMetainfo.Delete(req.Digest)
		whole := dst.Offset() == 0
		err := f.Fetch(ctx, req, dst)
		if mi := used.Swap(nil); err == nil && whole && mi != nil {
			swarmMetainfo.Store(req.Digest, mi)
		}
		return err
	})
	return []fetchers.Named{{Name: torrentSourceName, Fetcher: fetchers.WithStallTimeout(record, s.StallTimeout)}}, nil
}

// torrentSourceName names the swarm source in logs and bytes_by_source.
const torrentSourceName = "torrent"

// swarmMetainfo holds, by digest, the metainfo of images this process
// fetched whole from the swarm: every piece passed its SHA-1, so the
// metainfo describes the staged bytes. Once the engine has verified the
// digest too (keepSwarmMetainfo), it is cached for serve, which then seeds
// the new blob at once instead of hashing it all again.
var swarmMetainfo sync.Map // digest.Digest -> *metainfo.MetaInfo

// keepSwarmMetainfo is the engine's Committed hook: it caches the metainfo
// of a blob fetched from the swarm. A fetch that resumed, or that another
// source finished, leaves nothing: pieces it did not check could differ
// from what the metainfo says. Nor does a swarm fetch whose bytes failed
// the digest: the engine then fetches from the other sources, and the blob
// it commits is not what that metainfo describes.
func keepSwarmMetainfo(st *store.Store) func(*spec.Image, store.Blob, []string) {
	return func(img *spec.Image, b store.Blob, sources []string) {
		v, ok := swarmMetainfo.LoadAndDelete(b.Digest)
		if !ok || !slices.Equal(sources, []string{torrentSourceName}) {
			return
		}
		if _, err := cacheMetainfo(st, b.Digest, v.(*metainfo.MetaInfo), img.TorrentURL); err != nil {
			fmt.Fprintf(os.Stderr, "prestaged: image %s: cannot keep its metainfo for serve (serve derives it): %v\n", img.Name, err)
		}
	}
}

// imageOrigin is where the swarm takes the pieces no peer holds: the
// image's mirrors, in the order its sources name them, each piece read by
// one host (torrent.Fetcher.WithOrigin). nil when the image has no mirror
// or the spec says web_seed = false.
func imageOrigin(s *spec.Spec, img *spec.Image) (torrent.Origin, error) {
	if !s.Torrent.WebSeed {
		return nil, nil
	}
	var ms []*mirror.Mirror
	for _, src := range img.Sources {
		if src.Kind != spec.SourceMirror {
			continue
		}
		m, err := specMirror(s, src.Name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return func(ctx context.Context, req fetchers.Request, p []byte, off int64) error {
		var errs []error
		for _, m := range ms {
			err := m.ReadAt(ctx, req, p, off)
			if err == nil || ctx.Err() != nil {
				return err
			}
			errs = append(errs, err)
		}
		err := errors.Join(errs...)
		if !slices.ContainsFunc(errs, func(e error) bool { return !fetchers.IsPermanent(e) }) {
			err = fetchers.Permanent(err)
		}
		return err
	}, nil
}

// inOrderWindow is how many pieces past its complete prefix a host with
// children asks the swarm for first: 16 MiB of 4 MiB pieces, a few seconds
// of a child's stream on 1 GbE, so the prefix children stream from keeps
// growing.
const inOrderWindow = 4

// hasChildren reports whether this host feeds children in the tree the spec
// computes: they stream only its complete prefix.
func hasChildren(s *spec.Spec) bool {
	return s.Peer != nil && len(spec.TreeChildren(s.Peer.Hosts, s.Peer.Fanout, s.Peer.Self)) > 0
}

// torrentPeers lists the explicit peers of the swarm when peers_from_tree
// is on: this host's parents and every host of the tree but itself, at
// torrent.listen's port (every host uses the same). nil otherwise: the
// tracker alone finds peers.
func torrentPeers(s *spec.Spec) torrent.PeersFunc {
	if !s.Torrent.PeersFromTree || s.Peer == nil {
		return nil
	}
	_, port, err := net.SplitHostPort(s.Torrent.Listen)
	if err != nil {
		return nil
	}
	var peers []string
	for _, hp := range slices.Concat(s.Peer.Parents, s.Peer.Hosts) {
		host, _, err := net.SplitHostPort(hp)
		if err != nil || hp == s.Peer.Self {
			continue
		}
		if p := net.JoinHostPort(host, port); !slices.Contains(peers, p) {
			peers = append(peers, p)
		}
	}
	return func() []string { return peers }
}

// imageMetainfo finds img's metainfo: its torrent_url, else from a parent
// that holds the image (GET /v1/torrents/<algo>/<hex>), else, when img names
// an infohash, from the swarm itself (sw.Info: any peer or client seeding
// it). With none of these, the image has no swarm: an error wrapping
// fetchers.ErrNotFound, permanent, so the next source starts at once.
func imageMetainfo(s *spec.Spec, img *spec.Image, sw *torrent.Swarm, peers torrent.PeersFunc) torrent.MetainfoFunc {
	return func(ctx context.Context, req fetchers.Request) (*metainfo.MetaInfo, error) {
		if img.TorrentURL != "" {
			mi, err := loadMetainfo(ctx, img.TorrentURL)
			if err != nil {
				return nil, fmt.Errorf("torrent_url %s: %w", img.TorrentURL, err)
			}
			return mi, checkInfoHash(mi, img)
		}
		var errs []error
		if s.Peer != nil {
			for _, p := range s.Peer.Parents {
				u := "http://" + p + "/v1/torrents/" + req.Digest.Path()
				mi, err := loadMetainfo(ctx, u)
				if err == nil {
					return mi, checkInfoHash(mi, img)
				}
				errs = append(errs, fmt.Errorf("parent %s: %w", p, err))
			}
		}
		if img.InfoHash != "" {
			var ih metainfo.Hash
			if err := ih.FromHexString(img.InfoHash); err != nil {
				return nil, fetchers.Permanentf("infohash %s: %w", img.InfoHash, err)
			}
			mi, err := sw.Info(ctx, ih, peers)
			if err != nil {
				return nil, errors.Join(append(errs, err)...)
			}
			return mi, nil
		}
		return nil, fetchers.Permanentf("no torrent_url, no infohash, and no parent has a .torrent for it (%w): %w", fetchers.ErrNotFound, errors.Join(errs...))
	}
}

// checkInfoHash refuses metainfo whose info-hash is not the image's
// infohash, when the spec pins one.
func checkInfoHash(mi *metainfo.MetaInfo, img *spec.Image) error {
	if got := torrent.InfoHash(mi); img.InfoHash != "" && got != img.InfoHash {
		return fetchers.Permanentf("metainfo has info-hash %s, the image's infohash is %s", got, img.InfoHash)
	}
	return nil
}

// loadMetainfo reads a .torrent from an http, https or file URL.
func loadMetainfo(ctx context.Context, rawURL string) (*metainfo.MetaInfo, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fetchers.Permanent(err)
	}
	var r io.ReadCloser
	switch u.Scheme {
	case "file":
		if r, err = os.Open(u.Path); errors.Is(err, os.ErrNotExist) {
			err = fetchers.Permanentf("%w: %w", fetchers.ErrNotFound, err)
		}
	case "http", "https":
		r, err = httpGet(ctx, rawURL)
	default:
		err = fetchers.Permanentf("scheme %q: want http, https or file", u.Scheme)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	mi, err := metainfo.Load(io.LimitReader(r, maxMetainfo))
	if err != nil {
		return nil, fetchers.Permanentf("not a .torrent: %w", err)
	}
	return mi, nil
}

func httpGet(ctx context.Context, u string) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(ctx, metainfoTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, fetchers.Permanent(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		if resp.StatusCode == http.StatusNotFound {
			return nil, fetchers.Permanentf("%w: %s", fetchers.ErrNotFound, resp.Status)
		}
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return cancelOnClose{resp.Body, cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
