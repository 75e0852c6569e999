package torrent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"

	"github.com/prestaged/prestaged/fetchers"
)

// Info fetches the metainfo of torrent ih from its swarm, for an image that
// names only an info-hash: peers send the info dictionary in pieces (BEP 9,
// ut_metadata), and the client keeps it only once it hashes to ih, so no
// peer can substitute another. Peers come from peers (may be nil) and the
// Config's tracker; any client that holds the torrent can answer, prestaged
// or not. It gives up with ErrStalled (retryable) when no peer has sent the
// info within Config.StallTimeout, and with ErrBusy while the Swarm already
// fetches or seeds ih. The metainfo has the info and no trackers.
func (s *Swarm) Info(ctx context.Context, ih metainfo.Hash, peers PeersFunc) (*metainfo.MetaInfo, error) {
	spec := &torrent.TorrentSpec{AddTorrentOpts: torrent.AddTorrentOpts{
		InfoHash: ih, Storage: noData{}, DisallowDataDownload: true, DisallowDataUpload: true}}
	if s.cfg.Tracker != "" {
		spec.Trackers = [][]string{{s.cfg.Tracker}}
	}
	t, err := s.addActive(ih, func() (*torrent.Torrent, error) {
		t, isNew, err := s.cl.AddTorrentSpec(spec)
		if err == nil && !isNew {
			err = ErrBusy
		}
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("torrent %s: info: %w", ih.HexString(), err)
	}
	defer s.Drop(ih)

	refresh := time.NewTicker(s.cfg.PeerRefresh)
	defer refresh.Stop()
	stall := time.NewTimer(s.cfg.StallTimeout)
	defer stall.Stop()
	r := s.refresher(ctx, t, peers, "info of "+ih.HexString())
	defer r.stop()
	for {
		select {
		case <-t.GotInfo():
			mi := metainfo.MetaInfo{InfoBytes: t.Metainfo().InfoBytes}
			if mi.HashInfoBytes() != ih { // the client checked it; a guard against a mix-up
				return nil, fetchers.Permanentf("torrent %s: info: got the info of %s", ih.HexString(), mi.HashInfoBytes().HexString())
			}
			return &mi, nil
		case <-refresh.C:
			r.refresh()
		case <-stall.C:
			return nil, fmt.Errorf("torrent %s: info: no peer sent it in %s (%d peers): %w",
				ih.HexString(), s.cfg.StallTimeout, len(t.PeerConns()), fetchers.ErrStalled)
		case <-ctx.Done():
			return nil, fmt.Errorf("torrent %s: info: %w", ih.HexString(), ctx.Err())
		}
	}
}

// noData is the storage of a torrent added only for its info: it holds no
// piece, and nothing asks for one.
type noData struct{}

var errNoData = errors.New("torrent added for its info only")

func (noData) OpenTorrent(context.Context, *metainfo.Info, metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{Piece: func(metainfo.Piece) storage.PieceImpl { return noData{} }}, nil
}

func (noData) ReadAt([]byte, int64) (int, error)  { return 0, errNoData }
func (noData) WriteAt([]byte, int64) (int, error) { return 0, errNoData }
func (noData) MarkComplete() error                { return errNoData }
func (noData) MarkNotComplete() error             { return nil }
func (noData) Completion() storage.Completion {
	return storage.Completion{Ok: true}
}
