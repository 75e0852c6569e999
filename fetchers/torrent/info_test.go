package torrent

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prestaged/prestaged/fetchers"
)

// TestInfoFromSwarm: a host that knows only an image's info-hash gets its
// metainfo from a peer that seeds it, then fetches the image with it.
func TestInfoFromSwarm(t *testing.T) {
	const size = 9<<20 + 3
	src := seedImage(t, size)
	ih := src.mi.HashInfoBytes()
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()

	s := newSwarm(t, Config{StallTimeout: 10 * time.Second})
	mi, err := s.Info(ctx, ih, fixedPeers(peerAddr(src.s)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mi.InfoBytes, src.mi.InfoBytes) {
		t.Fatal("info from the swarm differs from the seed's")
	}
	dst := newMemDst(size, nil)
	if err := s.Fetcher(fixedMetainfo(mi), fixedPeers(peerAddr(src.s))).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("fetch with the swarm's info: %v", err)
	}
	if !bytes.Equal(dst.bytes(), src.data) {
		t.Fatal("fetched bytes differ from the image")
	}
}

// TestInfoStalls: with no peer holding the torrent, Info gives up after the
// stall timeout with a retryable ErrStalled naming the info-hash.
func TestInfoStalls(t *testing.T) {
	src := seedImage(t, 1<<20)
	other := newSwarm(t, Config{}) // up, but without the torrent
	s := newSwarm(t, Config{StallTimeout: time.Second})
	_, err := s.Info(context.Background(), src.mi.HashInfoBytes(), fixedPeers(peerAddr(other)))
	if !errors.Is(err, fetchers.ErrStalled) || fetchers.IsPermanent(err) {
		t.Fatalf("Info with no peer holding it: %v, want a retryable ErrStalled", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(src.mi.HashInfoBytes().HexString())) {
		t.Errorf("error %q does not name the info-hash", err)
	}
}
