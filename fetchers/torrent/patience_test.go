package torrent

import (
	"testing"
	"time"
)

// TestQuietFor: a swarm may stay quiet for the longest of the stall
// timeout, MinQuiet, QuietPieces piece times and, while the origin feeds
// it, QuietArrivals times the pace its pieces arrive at, and QuietFirst
// until its first piece from the origin.
func TestQuietFor(t *testing.T) {
	s, ms := time.Second, time.Millisecond
	d := DefaultConfig()
	for _, c := range []struct {
		stall time.Duration
		q     quietState
		want  time.Duration
	}{
		{30 * s, quietState{}, 30 * s},
		{s, quietState{}, d.MinQuiet},
		{10 * s, quietState{first: true}, d.QuietFirst},                          // no piece from the origin yet
		{10 * s, quietState{pieceTime: 1300 * ms}, 13 * s},                       // 25 Mbit, before the origin's pace is known
		{10 * s, quietState{pieceTime: 1600 * ms, pace: 3400 * ms}, 108800 * ms}, // 10 Mbit
		{30 * s, quietState{pieceTime: 35 * ms, pace: 40 * ms}, 30 * s},          // 1 GbE: the stall timeout
		{10 * s, quietState{pieceTime: 5 * s, first: true}, 50 * s},              // pieceTime past QuietFirst
	} {
		cfg := d
		cfg.StallTimeout = c.stall
		if got := quietFor(&cfg, c.q); got != c.want {
			t.Errorf("quietFor(stall %v, %+v) = %v, want %v", c.stall, c.q, got, c.want)
		}
	}
}

// TestBeatsQuiet: a quiet fetch beats its watchdog while it is quiet for
// less than quietFor minus the stall timeout, so that the watchdog ends it
// once it has been quiet for quietFor; with quietFor no longer than the
// stall timeout it never beats without progress.
func TestBeatsQuiet(t *testing.T) {
	s := time.Second
	cfg := DefaultConfig()
	cfg.StallTimeout = 10 * s
	first := quietState{first: true} // quietFor: 30 s
	for _, c := range []struct {
		q    quietState
		idle time.Duration
		want bool
	}{
		{quietState{}, 0, false}, // quietFor is the stall timeout
		{quietState{}, 5 * s, false},
		{first, 0, true},
		{first, 19 * s, true},
		{first, 20 * s, false}, // the watchdog ends it 10 s later, at 30 s
		{quietState{pieceTime: 1500 * time.Millisecond}, 4 * s, true}, // quietFor 15 s
		{quietState{pieceTime: 1500 * time.Millisecond}, 5 * s, false},
	} {
		if got := beatsQuiet(&cfg, c.q, c.idle); got != c.want {
			t.Errorf("beatsQuiet(%+v, idle %v) = %v, want %v", c.q, c.idle, got, c.want)
		}
	}
}
