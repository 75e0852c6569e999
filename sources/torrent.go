package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/mirror"
	"github.com/prestaged/prestaged/fetchers/torrent"
	"github.com/prestaged/prestaged/spec"
)

// metainfoTimeout bounds one request for a .torrent (torrent_url or a
// parent's /v1/torrents): metainfo is small, a slow answer is a dead host.
const metainfoTimeout = 5 * time.Second

// maxMetainfo caps a .torrent read: 4 MiB pieces of a 1 TB image take 5 MB.
const maxMetainfo = 16 << 20

// swarm is the one Swarm of the Set, started by the first torrent fetcher.
// It listens on an ephemeral port of torrent.listen's host: `serve` owns
// torrent.listen itself.
func (x *Set) startSwarm() (*torrent.Swarm, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil, errClosed
	}
	if !x.started {
		x.started = true
		s := x.spec
		host, _, err := net.SplitHostPort(s.Torrent.Listen)
		if err != nil {
			x.swarmErr = fmt.Errorf("torrent: listen %q: %w", s.Torrent.Listen, err)
		} else {
			cfg := SwarmConfig(s, net.JoinHostPort(host, "0"))
			cfg.Events = x.log
			x.swarm, x.swarmErr = torrent.New(cfg)
		}
	}
	return x.swarm, x.swarmErr
}

// SwarmConfig is the Swarm configuration a spec asks for, listening on
// listen. Uploads share peer.upload_limit.
func SwarmConfig(s *spec.Spec, listen string) torrent.Config {
	cfg := torrent.Config{Listen: listen, Tracker: s.Torrent.Tracker, StallTimeout: s.StallTimeout}
	if s.Peer != nil {
		cfg.UploadLimit = s.Peer.UploadLimit.BytesPerSecond()
	}
	return cfg
}

func torrentNames(x *Set, _ *spec.Image, _ spec.Source) ([]string, error) {
	if x.spec.Torrent == nil {
		return nil, errors.New("the spec has no torrent block")
	}
	return []string{TorrentSourceName}, nil
}

// torrentSource is the swarm source of img. The stall watchdog around it is
// its only stall detection (the swarm beats it while it progresses), and it
// has no retry: a swarm that stalls hands over to the next source, which
// resumes from the pieces already landed in order.
func torrentSource(x *Set, img *spec.Image, src spec.Source) ([]fetchers.Named, error) {
	if _, err := torrentNames(x, img, src); err != nil {
		return nil, err
	}
	s := x.spec
	sw, err := x.startSwarm()
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
		x.metainfo.Delete(req.Digest)
		whole := dst.Offset() == 0
		err := f.Fetch(ctx, req, dst)
		if mi := used.Swap(nil); err == nil && whole && mi != nil {
			x.metainfo.Store(req.Digest, mi)
		}
		return err
	})
	return []fetchers.Named{{Name: TorrentSourceName, Fetcher: fetchers.WithStallTimeout(record, s.StallTimeout)}}, nil
}

// TorrentSourceName names the swarm source in logs and bytes_by_source.
const TorrentSourceName = "torrent"

// Committed is the engine's hook once a fetched blob is verified: the
// metainfo of an image fetched whole from the swarm (every piece passed its
// SHA-1, and now the digest too) is kept in the store for serve, which then
// seeds the new blob at once instead of hashing it all again. A fetch that
// resumed, or that another source finished, leaves nothing: pieces it did
// not check could differ from what the metainfo says. Nor does a swarm
// fetch whose bytes failed the digest: the blob committed is another
// source's.
func (x *Set) Committed(img *spec.Image, b store.Blob, sources []string) {
	v, ok := x.metainfo.LoadAndDelete(b.Digest)
	if !ok || !slices.Equal(sources, []string{TorrentSourceName}) {
		return
	}
	if _, err := KeepMetainfo(x.store, b.Digest, v.(*metainfo.MetaInfo), img.TorrentURL); err != nil {
		x.log.Warn("cannot keep the metainfo for serve; serve derives it", "image", img.Name, "err", err)
	}
}

// KeepMetainfo keeps mi's info in the store as the metainfo of blob d,
// with the torrent_url it came from ("" when derived or found in the
// swarm), and returns what it kept. Trackers of a published .torrent are
// not kept: they are not this farm's.
func KeepMetainfo(st *store.Store, d digest.Digest, mi *metainfo.MetaInfo, torrentURL string) (*metainfo.MetaInfo, error) {
	kept := &metainfo.MetaInfo{InfoBytes: mi.InfoBytes, CreatedBy: torrent.CreatedBy}
	if torrentURL != "" {
		kept.Comment = KeptFrom(torrentURL)
	}
	var buf bytes.Buffer
	if err := kept.Write(&buf); err != nil {
		return kept, err
	}
	return kept, st.KeepTorrent(d, buf.Bytes())
}

// KeptMetainfo is the metainfo the store keeps for d.
func KeptMetainfo(st *store.Store, d digest.Digest) (*metainfo.MetaInfo, error) {
	b, err := st.Torrent(d)
	if err != nil {
		return nil, err
	}
	return metainfo.Load(bytes.NewReader(b))
}

// KeptFrom is the comment of kept metainfo that came from torrentURL.
func KeptFrom(torrentURL string) string { return "prestaged: from " + torrentURL }

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
		m, err := SpecMirror(s, src.Name)
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
			mi, err := LoadMetainfo(ctx, img.TorrentURL)
			if err != nil {
				return nil, fmt.Errorf("torrent_url %s: %w", img.TorrentURL, err)
			}
			return mi, checkInfoHash(mi, img)
		}
		var errs []error
		if s.Peer != nil {
			for _, p := range s.Peer.Parents {
				u := "http://" + p + "/v1/torrents/" + req.Digest.Path()
				mi, err := LoadMetainfo(ctx, u)
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

// LoadMetainfo reads a .torrent from an http, https or file URL.
func LoadMetainfo(ctx context.Context, rawURL string) (*metainfo.MetaInfo, error) {
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
