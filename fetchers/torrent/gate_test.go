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
		{1, 0, 1 + gateFanOut}, // the owner and the next gateFanOut
		{1 + gateFanOut, 0, (1 + gateFanOut) * (1 + gateFanOut)}, // a generation later
		{1, gateDoubling, 2 * (1 + gateFanOut)},                  // nobody passed it on yet
		{1, 3 * gateDoubling, 8 * (1 + gateFanOut)},              //
		{2, time.Hour, 2 * (1 + gateFanOut) << 20},               // capped, no overflow
		{1, gateDoubling - 1, 1 + gateFanOut},                    //
		{32, gateDoubling / 2, 32 * (1 + gateFanOut)},            //
	} {
		if got := gateLimit(c.holders, c.heldFor); got != c.want {
			t.Errorf("gateLimit(%d, %v) = %d, want %d", c.holders, c.heldFor, got, c.want)
		}
	}
}
