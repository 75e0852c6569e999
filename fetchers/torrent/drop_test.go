package torrent

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// slowDst is a memDst whose reads take a while, as a staging file on a busy
// disk does: peers' requests are still being read from it when the fetch
// that owns it completes and drops its torrent.
type slowDst struct {
	*memDst
	delay time.Duration
}

func (d slowDst) ReadAt(p []byte, off int64) (int, error) {
	time.Sleep(d.delay)
	return d.memDst.ReadAt(p, off)
}

// TestFetchEndsWhileServingPeers: leechers download from a host whose own
// fetch completes and drops the torrent while their requests are being read
// from its staging file. The process must survive (anacrolix panics when a
// read fails after the torrent closed, see backing.ReadAt), and the fetch
// must return with the image in dst.
func TestFetchEndsWhileServingPeers(t *testing.T) {
	const (
		size     = 16<<20 + 3
		pieceLen = 256 << 10
		leechers = 3
	)
	data := content(size, 9)
	path := writeImage(t, "image.img", data)
	mi, err := MakeFile(context.Background(), path, "", pieceLen)
	if err != nil {
		t.Fatal(err)
	}
	testHookRead = func() { time.Sleep(time.Millisecond) }
	t.Cleanup(func() { testHookRead = nil })
	for round := range 3 {
		// The seeder is slow enough that leechers take pieces from the
		// fetching host as they land, all along its fetch.
		src := newSwarm(t, Config{UploadLimit: 24 << 20})
		if err := src.Seed(context.Background(), mi, path); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), testGuard)
		// The fetching host uploads slowly: leechers lag behind it, with
		// requests outstanding when its fetch completes.
		mid := newSwarm(t, Config{UploadLimit: 8 << 20})
		lctx, lcancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for range leechers {
			s := newSwarm(t, Config{})
			wg.Go(func() {
				// Only the fetching host is a peer: its drop ends their fetch.
				_ = s.Fetcher(fixedMetainfo(mi), fixedPeers(peerAddr(mid))).Fetch(lctx, request(size), newMemDst(size, nil))
			})
		}
		dst := slowDst{newMemDst(size, nil), 2 * time.Millisecond}
		err := mid.Fetcher(fixedMetainfo(mi), fixedPeers(peerAddr(src))).Fetch(ctx, request(size), dst)
		if err != nil {
			t.Fatalf("round %d: Fetch: %v", round, err)
		}
		if !bytes.Equal(dst.bytes(), data) {
			t.Fatalf("round %d: dst differs from the image", round)
		}
		// Give requests read after the drop time to come back to the client.
		time.Sleep(500 * time.Millisecond)
		if err := mid.Close(); err != nil {
			t.Errorf("round %d: Close: %v", round, err)
		}
		lcancel()
		wg.Wait()
		cancel()
	}
}
