package torrent

import (
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
)

// TestOnePeerConnPerHost: hosts that list each other dial each other both
// ways, and keep one connection per pair. With two, a 32-host swarm had 62
// connections per host against anacrolix's 50 per torrent: hosts turned
// late peers away ("don't want conn"), some saw 6-15 of 31, and ranked
// themselves owner of pieces others owned too.
func TestOnePeerConnPerHost(t *testing.T) {
	const size = 8 << 20 // two pieces
	data := content(size, 5)
	mi := makeMetainfo(t, data)
	o := newMemOrigin(data)
	o.fail = func(int64) error { time.Sleep(time.Second); return nil } // keeps the fetches running
	var swarms []*Swarm
	var origins []Origin
	for range 4 {
		swarms = append(swarms, newSwarm(t, Config{}))
		origins = append(origins, o.read)
	}
	var (
		mu     sync.Mutex
		dups   int // looks that found two connections to one peer
		maxIDs = make([]int, len(swarms))
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for i, s := range swarms {
				tt, ok := s.cl.Torrent(mi.HashInfoBytes())
				if !ok {
					continue
				}
				seen := map[torrent.PeerID]int{}
				for _, pc := range tt.PeerConns() {
					seen[pc.PeerID]++
				}
				mu.Lock()
				maxIDs[i] = max(maxIDs[i], len(seen))
				for _, n := range seen {
					if n > 1 {
						dups++
					}
				}
				mu.Unlock()
			}
		}
	})
	fetchAll(t, data, mi, swarms, origins, -1)
	close(stop)
	wg.Wait()
	if dups > 0 {
		t.Errorf("hosts held two connections to the same peer (%d times seen)", dups)
	}
	for i, n := range maxIDs {
		if n != len(swarms)-1 {
			t.Errorf("host %d saw at most %d peers, want %d", i, n, len(swarms)-1)
		}
	}
}
