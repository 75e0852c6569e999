package torrent

import (
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
)

// TestGateLimit: each holder lets GateFanOut more hosts in, and the limit
// doubles every period, so that a piece reaches every host of any swarm in
// bounded time even if its holders never grow.
func TestGateLimit(t *testing.T) {
	cfg := DefaultConfig()
	gateFanOut, gateDoubling := cfg.GateFanOut, cfg.GateDoubling
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
		if got := gateLimit(&cfg, c.holders, c.heldFor, gateDoubling); got != c.want {
			t.Errorf("gateLimit(%d, %v) = %d, want %d", c.holders, c.heldFor, got, c.want)
		}
	}
}

// TestGateDoublingPeriod: the limit doubles every GateDoubling in a swarm
// without an origin, and never where the origin feeds the swarm: there a
// piece's first takers must hold it before more hosts ask its holder.
func TestGateDoublingPeriod(t *testing.T) {
	cfg := DefaultConfig()
	if got := gatePeriod(&cfg, false); got != cfg.GateDoubling {
		t.Errorf("without an origin: %v, want %v", got, cfg.GateDoubling)
	}
	if got := gatePeriod(&cfg, true); got != 0 {
		t.Errorf("with an origin: %v, want 0", got)
	}
	if got := gateLimit(&cfg, 1, time.Hour, gatePeriod(&cfg, true)); got != 1+cfg.GateFanOut {
		t.Errorf("limit after an hour with an origin: %d, want %d", got, 1+cfg.GateFanOut)
	}
}

// TestViewShared: the gate's and the origin feed's looks within the age
// share one lookAround, each caller getting its own copy of the answer.
func TestViewShared(t *testing.T) {
	looks := 0
	viewAge := DefaultConfig().GateTick
	v := &view{age: viewAge, count: make([]int, 3), around: func(count []int, _ map[*torrent.PeerConn]int) ([]torrent.PeerID, int) {
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

// TestRareBelow: a piece fewer than a quarter of the ranked hosts hold is
// rare, and in a small swarm one that a single peer holds.
func TestRareBelow(t *testing.T) {
	cfg := DefaultConfig()
	for ranked, want := range map[int]int{1: 2, 4: 2, 8: 2, 12: 3, 32: 8, 50: 12} {
		if got := rareBelow(&cfg, ranked); got != want {
			t.Errorf("rareBelow(%d) = %d, want %d", ranked, got, want)
		}
	}
}

// TestThrottle: a throttled connection is held to ThrottledRequests from
// its next message on, and gets its own limit back once the throttle is
// lifted; a connection never throttled is left alone.
func TestThrottle(t *testing.T) {
	s := &Swarm{cfg: DefaultConfig()}
	maxPeerRequests, throttledRequests := s.cfg.MaxPeerRequests, s.cfg.ThrottledRequests
	pc := &torrent.PeerConn{PeerMaxRequests: maxPeerRequests}
	s.throttle(pc, true)
	if pc.PeerMaxRequests != maxPeerRequests {
		t.Fatalf("limit %d before the connection's next message, want %d", pc.PeerMaxRequests, maxPeerRequests)
	}
	s.applyLimit(pc)
	if pc.PeerMaxRequests != throttledRequests {
		t.Fatalf("throttled: limit %d, want %d", pc.PeerMaxRequests, throttledRequests)
	}
	s.applyLimit(pc) // a second message changes nothing
	s.throttle(pc, false)
	s.applyLimit(pc)
	if pc.PeerMaxRequests != maxPeerRequests {
		t.Fatalf("lifted: limit %d, want %d", pc.PeerMaxRequests, maxPeerRequests)
	}
	other := &torrent.PeerConn{PeerMaxRequests: 3}
	s.throttle(other, false)
	s.applyLimit(other)
	if _, ok := s.limits.Load(other); ok || other.PeerMaxRequests != 3 {
		t.Errorf("never throttled: stored %v, limit %d; want nothing stored, 3", ok, other.PeerMaxRequests)
	}
}
