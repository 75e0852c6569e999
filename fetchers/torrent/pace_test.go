package torrent

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestPacerCapsWhileBehind: a fetch PaceBehind pieces behind its peers'
// median caps the swarm's uploads at PaceShare of the most it sent over a
// PaceWindow, and lifts the cap once it catches up or ends.
func TestPacerCapsWhileBehind(t *testing.T) {
	cfg := DefaultConfig()
	paceBehind, paceShare := cfg.PaceBehind, cfg.PaceShare
	p := newPace(0, cfg.PaceBurst)
	f := &pacer{p: p, cfg: &cfg}
	t0 := time.Unix(1000, 0)
	const perSecond = 1 << 20
	// Five seconds at 1 MiB/s, at the median: no cap, and the peak learnt.
	for i := range 6 {
		f.step(t0.Add(time.Duration(i)*time.Second), int64(i)*perSecond, 30, 30, true)
	}
	if got := p.lim.Limit(); got != paceUnlimited {
		t.Fatalf("at the median: limit %v, want none", got)
	}
	// Slower later: the peak stays the fastest window.
	at := t0.Add(6 * time.Second)
	f.step(at, 5*perSecond+perSecond/2, 30, 30, true)
	// One piece fewer than paceBehind behind: still no cap.
	f.step(at.Add(time.Second), 6*perSecond, 30-paceBehind+1, 30, true)
	if got := p.lim.Limit(); got != paceUnlimited {
		t.Fatalf("%d behind: limit %v, want none", paceBehind-1, got)
	}
	f.step(at.Add(2*time.Second), 6*perSecond, 30-paceBehind, 30, true)
	if got, want := p.lim.Limit(), rate.Limit(paceShare*perSecond); got != want {
		t.Fatalf("%d behind: limit %v, want %v", paceBehind, got, want)
	}
	f.step(at.Add(3*time.Second), 6*perSecond, 30, 31, true)
	if got := p.lim.Limit(); got != paceUnlimited {
		t.Fatalf("caught up: limit %v, want none", got)
	}
	f.step(at.Add(4*time.Second), 6*perSecond, 10, 31, true)
	if p.lim.Limit() == paceUnlimited {
		t.Fatal("behind again: no cap")
	}
	f.stop()
	if got := p.lim.Limit(); got != paceUnlimited {
		t.Fatalf("stopped: limit %v, want none", got)
	}
}

// TestPacerNeedsPeersAndAPeak: without peers, or before it has uploaded
// over most of a PaceWindow, a fetch sets no cap, however few pieces it
// holds.
func TestPacerNeedsPeersAndAPeak(t *testing.T) {
	cfg := DefaultConfig()
	p := newPace(0, cfg.PaceBurst)
	f := &pacer{p: p, cfg: &cfg}
	t0 := time.Unix(1000, 0)
	f.step(t0, 0, 0, 40, true)
	f.step(t0.Add(3*time.Second), 3<<20, 0, 40, true)
	if got := p.lim.Limit(); got != paceUnlimited {
		t.Fatalf("3 s sampled: limit %v, want none", got)
	}
	f.step(t0.Add(5*time.Second), 5<<20, 0, 0, false)
	if got := p.lim.Limit(); got != paceUnlimited {
		t.Fatalf("no peers: limit %v, want none", got)
	}
}

// TestPaceKeepsUploadLimit: the cap never raises the spec's upload_limit,
// and with two fetches behind the lower cap holds until both lift theirs.
func TestPaceKeepsUploadLimit(t *testing.T) {
	cfg := DefaultConfig()
	p := newPace(1<<20, cfg.PaceBurst)
	a, b := &pacer{p: p, cfg: &cfg}, &pacer{p: p, cfg: &cfg}
	p.set(a, 4<<20)
	if got := p.lim.Limit(); got != 1<<20 {
		t.Fatalf("cap above upload_limit: limit %v, want %v", got, 1<<20)
	}
	p.set(a, 512<<10)
	p.set(b, 256<<10)
	if got := p.lim.Limit(); got != 256<<10 {
		t.Fatalf("two caps: limit %v, want the lower, %v", got, 256<<10)
	}
	p.set(b, 0)
	if got := p.lim.Limit(); got != 512<<10 {
		t.Fatalf("one lifted: limit %v, want %v", got, 512<<10)
	}
	p.set(a, 0)
	if got := p.lim.Limit(); got != 1<<20 {
		t.Fatalf("both lifted: limit %v, want upload_limit %v", got, 1<<20)
	}
}
