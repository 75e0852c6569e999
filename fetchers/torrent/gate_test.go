package torrent

import (
	"testing"
	"time"
)

// TestGateLimit: each holder lets gateFanOut more hosts in, and the limit
// doubles every gateDoubling, so that a piece reaches every host of any
// swarm in bounded time even if its holders never grow.
func TestGateLimit(t *testing.T) {
	for _, c := range []struct {
		holders int
		heldFor time.Duration
		want    int
	}{
		{1, 0, 3},                      // the owner and the next two
		{3, 0, 9},                      // a generation later
		{1, gateDoubling, 6},           // nobody passed it on yet
		{1, 3 * gateDoubling, 24},      //
		{2, time.Hour, 6 << 20},        // capped, no overflow
		{1, gateDoubling - 1, 3},       //
		{32, gateDoubling / 2, 3 * 32}, //
	} {
		if got := gateLimit(c.holders, c.heldFor); got != c.want {
			t.Errorf("gateLimit(%d, %v) = %d, want %d", c.holders, c.heldFor, got, c.want)
		}
	}
}
