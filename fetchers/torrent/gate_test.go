package torrent

import (
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
)

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
