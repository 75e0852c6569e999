package torrent

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/time/rate"
)

// TestGateStep follows the gate's decisions over one swarm of four pieces
// without a client: a piece opens once a holder lets this host's rank in,
// is rare (raised) while fewer than rareBelow peers hold it and lowered
// once more do, and with nothing open this host's own piece opens.
func TestGateStep(t *testing.T) {
	cfg := DefaultConfig()
	t0 := time.Unix(1000, 0)
	st := newGateState(4)
	ranks := []int{0, 7, 30, 3} // rank 7 opens at 2 holders (limit 12), 30 at 6 (36); rare: under 8
	steps := []struct {
		name     string
		count    []int
		complete []bool
		want     gateMoves
		closed   int
	}{
		{"nobody holds a piece: own piece opens", []int{0, 0, 0, 0}, []bool{false, false, false, false},
			gateMoves{open: []int{0}}, 3},
		{"piece 3 held once: opens; own piece rare", []int{0, 0, 0, 1}, []bool{false, false, false, false},
			gateMoves{open: []int{3}, raise: []int{0}, want: []int{0}}, 2},
		{"piece 1 held twice: opens; piece 3 rare", []int{1, 2, 1, 1}, []bool{false, false, false, false},
			gateMoves{open: []int{1}, raise: []int{3}, want: []int{0, 3}}, 1},
		{"piece 3 here, piece 0 common, piece 2 not yet", []int{9, 2, 5, 1}, []bool{false, false, false, true},
			gateMoves{raise: []int{1}, lower: []int{0}, want: []int{1}}, 1},
		{"piece 2 held by six", []int{9, 9, 6, 9}, []bool{true, false, false, true},
			gateMoves{open: []int{2}, lower: []int{1}}, 0},
	}
	for _, s := range steps {
		v := gateView{now: t0, count: s.count, complete: s.complete, ranks: ranks, ranked: 32, fed: true}
		got := gateStep(&cfg, &st, v)
		if diff := cmp.Diff(s.want, got, cmp.AllowUnexported(gateMoves{})); diff != "" {
			t.Fatalf("%s: moves (-want +got):\n%s", s.name, diff)
		}
		if st.closed != s.closed {
			t.Fatalf("%s: %d pieces closed, want %d", s.name, st.closed, s.closed)
		}
	}
}

// TestGateStepDoubles: without an origin a piece's limit doubles every
// GateDoubling it has been held, so a host far down the ranks gets it.
func TestGateStepDoubles(t *testing.T) {
	cfg := DefaultConfig()
	t0 := time.Unix(1000, 0)
	for _, fed := range []bool{false, true} {
		st := newGateState(2)
		st.opened[0], st.closed = true, 1 // piece 0 is open and missing
		v := gateView{count: []int{1, 1}, complete: []bool{false, false}, ranks: []int{0, 20}, ranked: 32, fed: fed}
		var opened []int
		for _, at := range []time.Duration{0, cfg.GateDoubling, 2 * cfg.GateDoubling} {
			v.now = t0.Add(at)
			opened = append(opened, gateStep(&cfg, &st, v).open...)
		}
		// Rank 20 opens at a limit of 24: two doublings of 6.
		if want := map[bool]int{false: 1, true: 0}[fed]; len(opened) != want {
			t.Errorf("fed %v: opened %v, want %d piece", fed, opened, want)
		}
	}
}

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

// TestOriginWaitPolicy: the wait for a host ahead in rank is the longest of
// the patience, twice what w shortest reads take, and three times what w
// pieces take at the origin's pace.
func TestOriginWaitPolicy(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		patience, pieceTime, interval time.Duration
		w                             int
		want                          time.Duration
	}{
		{5 * s, 0, 0, 8, 5 * s},
		{5 * s, 2 * s, 0, 3, 12 * s},
		{5 * s, 2 * s, 4 * s, 5, 60 * s},
		{30 * s, s, s, 1, 30 * s},
	} {
		if got := originWait(c.patience, c.pieceTime, c.interval, c.w); got != c.want {
			t.Errorf("originWait(%v, %v, %v, %d) = %v, want %v", c.patience, c.pieceTime, c.interval, c.w, got, c.want)
		}
	}
}

// TestOwnerTurn: the owner reads a piece at once, the host ranked r after
// r waits.
func TestOwnerTurn(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		rank         int
		waited, wait time.Duration
		want         bool
	}{
		{0, 0, 5 * s, true},
		{1, 4 * s, 5 * s, false},
		{1, 5 * s, 5 * s, true},
		{3, 14 * s, 5 * s, false},
		{3, 15 * s, 5 * s, true},
	} {
		if got := ownerTurn(c.rank, c.waited, c.wait); got != c.want {
			t.Errorf("ownerTurn(%d, %v, %v) = %v, want %v", c.rank, c.waited, c.wait, got, c.want)
		}
	}
}

// TestWindowSize: one origin read while the swarm holds nothing, two more
// per piece held, up to OriginWindow.
func TestWindowSize(t *testing.T) {
	cfg := DefaultConfig()
	for held, want := range map[int]int{0: 1, 1: 3, 3: 7, 4: 8, 100: 8} {
		if got := windowSize(&cfg, held); got != want {
			t.Errorf("windowSize(%d) = %d, want %d", held, got, want)
		}
	}
}

// TestPaceCap: a host PaceBehind pieces behind its peers' median, with
// peers and a peak known, caps its uploads at PaceShare of the peak.
func TestPaceCap(t *testing.T) {
	cfg := DefaultConfig()
	for _, c := range []struct {
		peak         float64
		mine, median int
		ok           bool
		want         rate.Limit
	}{
		{1000, 26, 30, true, rate.Limit(cfg.PaceShare * 1000)},
		{1000, 27, 30, true, 0}, // three behind
		{1000, 0, 30, false, 0}, // no peers
		{0, 0, 30, true, 0},     // no peak yet
	} {
		if got := paceCap(&cfg, c.peak, c.mine, c.median, c.ok); got != c.want {
			t.Errorf("paceCap(%v, %d, %d, %v) = %v, want %v", c.peak, c.mine, c.median, c.ok, got, c.want)
		}
	}
}

// TestConfigDefaults: every tuning field left zero takes its default, and
// one that is set is kept.
func TestConfigDefaults(t *testing.T) {
	want := DefaultConfig()
	if diff := cmp.Diff(want, Config{}.withDefaults(), cmpopts.IgnoreFields(Config{}, "Logger", "Events")); diff != "" {
		t.Errorf("Config{} with defaults (-want +got):\n%s", diff)
	}
	got := Config{Listen: ":6881", GateFanOut: 2, PaceShare: 0.5}.withDefaults()
	want.Listen, want.GateFanOut, want.PaceShare = ":6881", 2, 0.5
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Config{}, "Logger", "Events")); diff != "" {
		t.Errorf("set fields with defaults (-want +got):\n%s", diff)
	}
}
