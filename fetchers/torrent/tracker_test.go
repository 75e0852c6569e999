package torrent

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// lossyTracker is an HTTP tracker that fails every announce for its first
// 2 s, as one lost at the start of a rollout, then lists seed. It counts
// the announces in hits.
func lossyTracker(t *testing.T, seed *Swarm, hits *atomic.Int32) string {
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if time.Since(start) < 2*time.Second { // the announce as the fetch starts is lost
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		peer := binary.BigEndian.AppendUint16(net.IPv4(127, 0, 0, 1).To4(), uint16(seed.Port()))
		b, err := bencode.Marshal(map[string]any{"interval": 1800, "peers": string(peer)})
		if err != nil {
			t.Error(err)
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/announce"
}

// TestFetchAsksTrackerAgain: a fetch whose first announce failed, and so
// has no peer, asks the tracker again itself, well within its stall
// timeout, instead of waiting the minute anacrolix waits.
func TestFetchAsksTrackerAgain(t *testing.T) {
	const size = 5<<20 + 1
	src := seedImage(t, size)
	var hits atomic.Int32
	url := lossyTracker(t, src.s, &hits)

	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	s := newSwarm(t, Config{Tracker: url, StallTimeout: 2 * DefaultConfig().PeerRefresh})
	dst := newMemDst(size, nil)
	if err := watched(s, s.Fetcher(fixedMetainfo(src.mi), nil)).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("Fetch whose first announce failed: %v (tracker asked %d times)", err, hits.Load())
	}
	if !bytes.Equal(dst.bytes(), src.data) || hits.Load() < 2 {
		t.Errorf("tracker asked %d times, want 2 or more; image fetched: %v", hits.Load(), bytes.Equal(dst.bytes(), src.data))
	}
}

// TestInfoAsksTrackerAgain: so does a fetch of an info-hash's metainfo.
func TestInfoAsksTrackerAgain(t *testing.T) {
	src := seedImage(t, 5<<20+1)
	var hits atomic.Int32
	url := lossyTracker(t, src.s, &hits)

	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	s := newSwarm(t, Config{Tracker: url, StallTimeout: 2 * DefaultConfig().PeerRefresh})
	mi, err := s.Info(ctx, src.mi.HashInfoBytes(), nil)
	if err != nil {
		t.Fatalf("Info whose first announce failed: %v (tracker asked %d times)", err, hits.Load())
	}
	if mi.HashInfoBytes() != src.mi.HashInfoBytes() || hits.Load() < 2 {
		t.Errorf("tracker asked %d times, want 2 or more; info-hash %s, want %s", hits.Load(), mi.HashInfoBytes().HexString(), src.mi.HashInfoBytes().HexString())
	}
}
