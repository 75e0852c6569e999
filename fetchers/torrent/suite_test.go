package torrent

import (
	"context"
	"fmt"
	"testing"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

// The torrent fetcher passes the suite every Fetcher passes, through
// in-process swarms (swarmHolding).
func TestSwarmSuite(t *testing.T) { fetcherstest.Suite(t, swarmHolding) }

// swarmHolding is a fetcher from a swarm holding content: a Swarm seeding it
// as its own torrent, and a fresh Swarm fetching with that seed as its only
// peer. The metainfo is found by digest, as the wiring finds a torrent_url
// or an infohash, so an image the seed does not hold has none
// (ErrNotFound).
func swarmHolding(t *testing.T, content []byte, _ string) fetchers.Fetcher {
	d := fetcherstest.Digest(content)
	var mi *metainfo.MetaInfo
	var seed []string
	if len(content) > 0 { // an empty image has no torrent: Fetch asks for none
		mi, seed = seedContent(t, content)
	}
	byDigest := func(_ context.Context, req fetchers.Request) (*metainfo.MetaInfo, error) {
		if mi == nil || req.Digest != d {
			return nil, fmt.Errorf("no torrent for %s: %w", req.Digest.Short(), fetchers.ErrNotFound)
		}
		return mi, nil
	}
	return newSwarm(t, Config{}).Fetcher(byDigest, fixedPeers(seed...))
}

// seedContent writes content to a file, makes its metainfo and seeds it
// from a Swarm of its own, whose address it returns as the only peer.
func seedContent(t *testing.T, content []byte) (*metainfo.MetaInfo, []string) {
	t.Helper()
	path := writeImage(t, "image.img", content)
	mi, err := MakeFile(t.Context(), path, "", DefaultPieceLength)
	s := newSwarm(t, Config{})
	if err == nil {
		err = s.Seed(t.Context(), mi, path)
	}
	if err != nil {
		t.Fatalf("seeding %d bytes: %v", len(content), err)
	}
	return mi, []string{peerAddr(s)}
}
