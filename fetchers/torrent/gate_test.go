package torrent

import (
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
)

// TestGateLimit: each holder lets gateFanOut more hosts in, and the limit
// doubles every period, so that a piece reaches every host of any swarm in
// bounded time even if its holders never grow.
func TestGateLimit(t *testing.T) {
	for _, c := range []struct {
		holders int
		heldFor time.Duration
		want    int
	}{
		{1, 0, 1 + gateFanOut}, // the owner and the next gateFanOut
		{1 + gateFanOut, 0, (1 + gateFanOut) * (1 + gateFanOut)}, // a generation later
		{1, gateDoubling, 2 * (1 + gateFanOut)},                  // nobody passed it on yet
		{1, 3 * gateDoubling, 8 * (1 + gateFanOut)},              //
		{2, time.Hour, 2 * (1 + gateFanOut) << 20},               // capped, no overflow
		{1, gateDoubling - 1, 1 + gateFanOut},                    //
		{32, gateDoubling / 2, 32 * (1 + gateFanOut)},            //
	} {
		if got := gateLimit(c.holders, c.heldFor, gateDoubling); got != c.want {
			t.Errorf("gateLimit(%d, %v) = %d, want %d", c.holders, c.heldFor, got, c.want)
		}
	}
}

// TestGateDoublingPeriod: the limit doubles no sooner than gateDoubling,
// and no sooner than gateDoublingPieces piece times once the swarm's piece
// time is known, so that a piece's first takers can hold it before the
// gate opens it to every host.
func TestGateDoublingPeriod(t *testing.T) {
	var pt time.Duration
	g := &gate{}
	if got := g.doublingPeriod(); got != gateDoubling {
		t.Errorf("without an origin: %v, want %v", got, gateDoubling)
	}
	g.pieceTime = func() time.Duration { return pt }
	for _, c := range []struct {
		pieceTime, want time.Duration
	}{
		{0, gateDoubling},                                       // not known yet
		{100 * time.Millisecond, gateDoubling},                  // a fast link: the floor
		{1340 * time.Millisecond, 12 * 1340 * time.Millisecond}, // 25 Mbit
	} {
		pt = c.pieceTime
		if got := g.doublingPeriod(); got != c.want {
			t.Errorf("piece time %v: period %v, want %v", c.pieceTime, got, c.want)
		}
	}
	// At 25 Mbit a piece held for 8 s by one host is open to its first
	// takers only, not yet to twice as many.
	pt = 1340 * time.Millisecond
	if got := gateLimit(1, 8*time.Second, g.doublingPeriod()); got != 1+gateFanOut {
		t.Errorf("limit after 8 s at 25 Mbit: %d, want %d", got, 1+gateFanOut)
	}
}

// TestViewShared: the gate's and the origin feed's looks within viewAge
// share one lookAround, each caller getting its own copy of the answer.
func TestViewShared(t *testing.T) {
	looks := 0
	v := &view{count: make([]int, 3), around: func(count []int) ([]torrent.PeerID, int) {
		looks++
		count[1] = looks
		return []torrent.PeerID{{byte(looks)}}, looks
	}}
	t0 := time.Now()
	for _, c := range []struct {
		at        time.Duration
		wantLooks int
	}{
		{0, 1},
		{viewAge / 2, 1}, // the other caller, soon after: the same look
		{viewAge, 2},
		{viewAge - 1, 3}, // the clock went back: look again
	} {
		count := make([]int, 3)
		ids, seeds := v.look(t0.Add(c.at), count)
		if looks != c.wantLooks {
			t.Fatalf("at %v: %d looks, want %d", c.at, looks, c.wantLooks)
		}
		want := []torrent.PeerID{{byte(looks)}}
		if !slices.Equal(ids, want) || seeds != looks || !slices.Equal(count, []int{0, looks, 0}) {
			t.Errorf("at %v: %v, %d seeds, count %v; want %v, %d, [0 %d 0]", c.at, ids, seeds, count, want, looks, looks)
		}
		ids[0][0] = 99 // the caller's copy
	}
}
