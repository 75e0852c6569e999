package torrent

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/storage"
)

// TestUploadChunkDelayHolds checks the hook this repository patches into
// anacrolix (third_party/README.md): a block the hook holds back is not sent
// while it is held, and is sent once it is not.
func TestUploadChunkDelayHolds(t *testing.T) {
	const pieceLen = 32 << 10
	data := content(2*pieceLen, 7)
	path := writeImage(t, "image.img", data)
	mi, err := MakeFile(context.Background(), path, "", pieceLen)
	if err != nil {
		t.Fatal(err)
	}
	var held atomic.Bool
	var asked atomic.Int32 // blocks of piece 1 held back
	held.Store(true)

	client := func(dir string, seed bool) (*torrent.Client, *torrent.Torrent) {
		cc := torrent.NewDefaultClientConfig()
		cc.ListenHost = torrent.LoopbackListenHost
		cc.ListenPort = 0
		cc.NoDHT, cc.DisableTrackers, cc.DisableUTP = true, true, true
		cc.NoDefaultPortForwarding = true
		cc.Seed = seed
		cc.DefaultStorage = storage.NewFile(dir)
		if seed {
			cc.UploadChunkDelay = func(_ *torrent.PeerConn, r torrent.Request) time.Duration {
				if r.Index == 1 && held.Load() {
					asked.Add(1)
					return 10 * time.Millisecond
				}
				return 0
			}
		}
		cl, err := torrent.NewClient(cc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		tt, err := cl.AddTorrent(mi)
		if err != nil {
			t.Fatal(err)
		}
		return cl, tt
	}
	seedCl, seedT := client(filepath.Dir(path), true)
	<-seedT.GotInfo()
	if err := seedT.VerifyDataContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, leechT := client(t.TempDir(), false)
	<-leechT.GotInfo()
	leechT.AddClientPeer(seedCl)
	// A connection starts with one request, and one held back would hold
	// the whole connection: piece 1 is asked for only once piece 0 is in.
	// (Asking for both at once, piece 0 first, failed about one run in
	// ten: the leecher can hold two connections to the seed, and the one
	// left with a piece-1 request never asked for piece 0.)
	leechT.Piece(0).SetPriority(torrent.PiecePriorityHigh)
	leechT.Piece(1).SetPriority(torrent.PiecePriorityNone)

	guard := time.After(testGuard)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-guard:
				t.Fatalf("gave up waiting for %s: seed has %d bytes, leecher %d, peers %d, seed conns %d", what, seedT.BytesCompleted(), leechT.BytesCompleted(), len(leechT.PeerConns()), len(seedT.PeerConns()))
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitFor("piece 0", func() bool { return leechT.Piece(0).State().Complete })
	leechT.Piece(1).SetPriority(torrent.PiecePriorityNormal)
	waitFor("a request for piece 1", func() bool { return asked.Load() > 0 })
	if st := leechT.Piece(1).State(); st.Complete || st.Partial {
		t.Fatalf("piece 1 arrived while held back: %+v", st)
	}
	held.Store(false)
	waitFor("piece 1 once released", func() bool { return leechT.Piece(1).State().Complete })
}

// TestRareFirst: a block waits while a block of a rarer piece went out
// within RareHold, and a peer behind is never held back.
func TestRareFirst(t *testing.T) {
	cfg := DefaultConfig()
	rareHold := cfg.RareHold
	r := &rareFirst{cfg: &cfg}
	class := []uint8{0, 3, rareCommon}
	r.class.Store(&class)
	late, other := &torrent.PeerConn{}, &torrent.PeerConn{}
	r.behind.Store(&map[*torrent.PeerConn]bool{late: true})
	now := time.Now().UnixNano()
	steps := []struct {
		pc    *torrent.PeerConn
		piece int
		at    int64
		held  bool
	}{
		{other, 2, now, false},                   // nothing rarer went out
		{other, 1, now, false},                   // nor for piece 1
		{other, 2, now, true},                    // piece 1 just went out
		{other, 0, now, false},                   // the rarest never waits
		{other, 1, now + 1, true},                // piece 0 just went out
		{late, 2, now + 1, false},                // a peer behind is served at once
		{other, 5, now + 1, true},                // a piece not classed is common
		{other, 2, now + int64(rareHold), false}, // the rarer ones stopped
	}
	for i, s := range steps {
		d := r.delay(s.pc, s.piece, s.at)
		if held := d > 0; held != s.held {
			t.Fatalf("step %d (piece %d): delay %v, want held %v", i, s.piece, d, s.held)
		}
	}
}

// TestViewBehind: the peers at least by pieces behind the median peer.
func TestViewBehind(t *testing.T) {
	a, b, c, d := &torrent.PeerConn{}, &torrent.PeerConn{}, &torrent.PeerConn{}, &torrent.PeerConn{}
	v := &view{count: make([]int, 20), have: make(map[*torrent.PeerConn]int), around: func(_ []int, have map[*torrent.PeerConn]int) ([]torrent.PeerID, int) {
		have[a], have[b], have[c], have[d] = 3, 6, 10, 20
		return []torrent.PeerID{{}}, 0
	}}
	got := v.behind(time.Now(), 4)
	if want := map[*torrent.PeerConn]bool{a: true, b: true}; len(got) != len(want) || !got[a] || !got[b] {
		t.Errorf("behind the median (10) by 4: %d peers (a %v, b %v), want a and b", len(got), got[a], got[b])
	}
	if got := (&view{have: map[*torrent.PeerConn]int{}, around: func([]int, map[*torrent.PeerConn]int) ([]torrent.PeerID, int) {
		return []torrent.PeerID{{}}, 0
	}}).behind(time.Now(), 4); len(got) != 0 {
		t.Errorf("no peers: %d behind", len(got))
	}
}
