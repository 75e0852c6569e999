package torrent

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
)

// TestPickerWindow follows a picker's window without a client: it holds at
// most window missing pieces, refills as they land, skips pieces already
// complete, and in order follows the complete prefix.
func TestPickerWindow(t *testing.T) {
	info := &metainfo.Info{PieceLength: 1 << 14, Length: 10 << 14, Pieces: make([]byte, 20*10)}
	staged := func(_, end int64) bool { return end <= 3<<14 } // pieces 0-2
	b := newBacking(info, nil, nil, staged)
	p := newPicker(len(b.state), 2, true)
	steps := []struct {
		name     string
		land     []int
		add, win []int
	}{
		{"start past the staged prefix", nil, []int{3, 4}, []int{3, 4}},
		{"piece 4 landed", []int{4}, []int{5}, []int{3, 5}},
		{"nothing landed", nil, nil, []int{3, 5}},
		{"7 landed outside the window, then 3, 5, 6", []int{7, 3, 5, 6}, []int{8, 9}, []int{8, 9}},
		{"all landed", []int{8, 9}, nil, []int{}},
	}
	for _, s := range steps {
		for _, i := range s.land {
			b.state[i] = pieceComplete
		}
		if add := p.refill(b); !slices.Equal(add, s.add) || !slices.Equal(p.raised, s.win) {
			t.Fatalf("%s: added %v, window %v; want %v, %v", s.name, add, p.raised, s.add, s.win)
		}
	}

	r := newPicker(len(b.state), 3, false)
	if sorted := slices.Sorted(slices.Values(r.order)); !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("random order %v is not a permutation of the pieces", r.order)
	}
	if add := newPicker(len(b.state), 0, false).refill(b); add != nil {
		t.Errorf("window 0 raised %v", add)
	}
}

// TestOriginWindowGrows: the origin's window holds one piece while the
// swarm holds none, grows by two per piece held, and never passes
// OriginWindow; held pieces are skipped, whether here or at a peer.
func TestOriginWindowGrows(t *testing.T) {
	const n = 20
	info := &metainfo.Info{PieceLength: 1 << 14, Length: n << 14, Pieces: make([]byte, 20*n)}
	b := newBacking(info, nil, nil, func(_, _ int64) bool { return false })
	cfg := DefaultConfig()
	o := &originFeed{cfg: &cfg, b: b, count: make([]int, n)}
	steps := []struct {
		name       string
		here, peer []int
		want       []int
	}{
		{"nothing held", nil, nil, []int{0}},
		{"a peer holds 0", nil, []int{0}, []int{1, 2, 3}},
		{"this host holds 1", []int{1}, nil, []int{2, 3, 4, 5, 6}},
		{"peers hold 2, 5, 9", nil, []int{2, 5, 9}, []int{3, 4, 6, 7, 8, 10, 11, 12}},
		{"all but 19 held", []int{3, 4, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18}, nil, []int{19}},
	}
	for _, s := range steps {
		for _, i := range s.here {
			b.state[i] = pieceComplete
		}
		for _, i := range s.peer {
			o.count[i]++
		}
		if got := o.window(); !slices.Equal(got, s.want) {
			t.Fatalf("%s: window %v, want %v", s.name, got, s.want)
		}
	}
}

// TestOriginWait: the wait for a host ahead in rank is the patience until
// a piece's time is known, then grows with the reads sharing the origin.
func TestOriginWait(t *testing.T) {
	cfg := DefaultConfig()
	o := &originFeed{cfg: &cfg, patience: 5 * time.Second}
	for _, tt := range []struct {
		share time.Duration
		w     int
		want  time.Duration
	}{
		{0, 8, 5 * time.Second},                       // nothing observed yet
		{1300 * time.Millisecond, 1, 5 * time.Second}, // one read: the patience
		{1300 * time.Millisecond, 3, 7800 * time.Millisecond},
		{1300 * time.Millisecond, 8, 20800 * time.Millisecond},
		{3 * time.Second, 8, 48 * time.Second}, // 12.5 Mbit: no cap
	} {
		o.share.Store(int64(tt.share))
		if got := o.wait(tt.w); got != tt.want {
			t.Errorf("share %v, %d reads: wait %v, want %v", tt.share, tt.w, got, tt.want)
		}
	}
}

// TestOriginWaitFollowsPace: once pieces come in from the origin, the wait
// is at least three times what w of them take at that pace. The shortest
// read seen (share) undercounts a read sharing the link, and would let the
// next host in rank read pieces again while shared reads are on their way.
func TestOriginWaitFollowsPace(t *testing.T) {
	t0 := time.Now()
	cfg := DefaultConfig()
	o := &originFeed{cfg: &cfg, patience: 5 * time.Second}
	o.share.Store(int64(1600 * time.Millisecond)) // 16 s for 5 reads
	if got, want := o.wait(5), 16*time.Second; got != want {
		t.Fatalf("no arrival yet: wait %v, want %v", got, want)
	}
	o.arrived(t0)
	if got, want := o.wait(5), 16*time.Second; got != want {
		t.Fatalf("one arrival: wait %v, want %v", got, want)
	}
	for i := 1; i < 12; i++ { // a piece every 4 s: 4 MiB pieces at 10 Mbit
		o.arrived(t0.Add(time.Duration(i) * 4 * time.Second))
	}
	if n := len(o.arrivals); n != cfg.OriginArrivals {
		t.Fatalf("%d arrivals kept, want %d", n, cfg.OriginArrivals)
	}
	if got, want := o.wait(5), 60*time.Second; got != want {
		t.Fatalf("a piece every 4 s, 5 reads: wait %v, want %v", got, want)
	}
	for i := 1; i < 8; i++ { // duplicates on the link: a piece every 8 s
		o.arrived(t0.Add(44*time.Second + time.Duration(i)*8*time.Second))
	}
	if got, want := o.wait(5), 120*time.Second; got != want {
		t.Fatalf("a piece every 8 s, 5 reads: wait %v, want %v", got, want)
	}
}

// TestOriginRetrySoon: a failed origin read is tried again after a second,
// then after twice as long each time the piece fails again, up to the
// patience; a good read starts the piece over.
func TestOriginRetrySoon(t *testing.T) {
	info := &metainfo.Info{PieceLength: 1 << 22, Length: 3 << 22, Pieces: make([]byte, 20*3)}
	cfg := DefaultConfig()
	o := &originFeed{cfg: &cfg, info: info, patience: 5 * time.Second, busy: map[int]bool{},
		retryAt: map[int]time.Time{}, fails: map[int]int{}, since: map[int]entered{}}
	fail := errors.New("dial tcp 10.77.0.1:80: i/o timeout")
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		before := time.Now()
		o.done(originResult{piece: 1, took: 30 * time.Second, err: fail})
		if got := o.retryAt[1]; got.Before(before.Add(want)) || got.After(time.Now().Add(want)) {
			t.Errorf("failure %d: retry in %v, want %v", i+1, got.Sub(before), want)
		}
	}
	if got := o.retryAfter(2); got != time.Second {
		t.Errorf("another piece's first failure: retry in %v, want 1s", got)
	}
	o.done(originResult{piece: 1, took: time.Second})
	if got := o.retryAfter(1); got != time.Second {
		t.Errorf("failure after a good read: retry in %v, want 1s", got)
	}
}

// TestOriginPatienceCapped: this host's own slow reads raise the patience
// to no more than OriginPatienceMax, as other hosts' reads do: uncapped,
// four times a slow shared read would keep one of the image's last pieces
// from the next host in rank for minutes while its owner cannot reach the
// mirror.
func TestOriginPatienceCapped(t *testing.T) {
	info := &metainfo.Info{PieceLength: 1 << 22, Length: 3 << 22, Pieces: make([]byte, 20*3)}
	cfg := DefaultConfig()
	o := &originFeed{cfg: &cfg, info: info, patience: 5 * time.Second, busy: map[int]bool{},
		retryAt: map[int]time.Time{}, fails: map[int]int{}, since: map[int]entered{}}
	o.done(originResult{piece: 0, took: 4 * time.Second})
	if o.patience != 16*time.Second {
		t.Fatalf("after a 4 s read: patience %v, want 16s", o.patience)
	}
	o.done(originResult{piece: 1, took: 25 * time.Second})
	if o.patience != cfg.OriginPatienceMax {
		t.Fatalf("after a 25 s read: patience %v, want %v", o.patience, cfg.OriginPatienceMax)
	}
	if got := o.wait(1); got != cfg.OriginPatienceMax {
		t.Errorf("one piece left: wait %v, want %v", got, cfg.OriginPatienceMax)
	}
}
