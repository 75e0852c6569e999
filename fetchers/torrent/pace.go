package torrent

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// A host far behind its peers paces its uploads, so that its own uplink
// queue stops delaying its downloads.
//
// A host's block requests and its acknowledgements of what it receives
// leave through its uplink, behind whatever it uploads. With the uplink
// full, they wait out its queue (50 ms of it in the testbed, and a full
// queue drops them), and the host's downlink idles between them. At N=32,
// 10 Mbit, 256 MiB, the last host to finish received at 40-75% of its link
// from 100 s on while it sent at 90-92% of its own, and in three runs of
// five finished 18-30 s after the median host. Holding back all its common
// uploads instead (rareFirst, tried at an earlier stop) made the tail go
// but cost the swarm those uploads: the median host finished 10-25 s
// later.
//
// So a fetching host that holds at least paceBehind pieces fewer than the
// median of its peers caps what its swarm uploads at paceShare of the most
// it ever uploaded over a paceWindow, until it catches up. Measured at N=32,
// 10 Mbit, 256 MiB, torrent only (ratio, median host, last host after it):
//
//	without, five runs:            1.54x 1.55x 1.54x 1.47x 1.55x
//	                               (median host 303-329 s, last +2-30 s)
//	with (70%, 4 behind), six:     1.48x 1.49x 1.56x 1.47x 1.50x 1.53x
//	                               (median host 307-324 s, last +8-21 s;
//	                               1.50x in make bench-testbed)
//	every host capped at 90% of its link instead, one run: 1.51x
//	                               (median host 322 s, last +2.5 s)
//
// The median ratio moved from 1.54x to 1.49x and the worst tails went
// (8-21 s against 2-30 s), but that is within the runs' spread (about
// ±0.04x): three runs of six were still over 1.5x.
//
// A host can starve before it falls behind: in one run the last host was
// ahead of the median at 160-220 s, then received at 48% of its link for
// 50 s while it sent at 96%, and fell 4 behind only at 280 s. Pacing also
// a host whose downloads over a paceWindow fell under 60% of their peak
// while it sent at 85% of its own peak, until they were back at 75%, took
// 1.47x, 1.51x and 1.50x (last host +2-12 s), against 1.50x, 1.50x,
// 1.51x and 1.59x without it the same day: not kept.
const (
	paceBehind = rareBehind
	paceShare  = 0.7
	paceWindow = 5 * time.Second
	// paceBurst is what the limiter lets out at once: 16 blocks, 0.2 s of
	// a 10 Mbit link (anacrolix's default, 1 MiB, would fill its queue).
	paceBurst = 256 << 10
)

// pace is the swarm's upload limiter and the fetches holding it down.
type pace struct {
	lim  *rate.Limiter
	full rate.Limit // the limit with nobody behind: upload_limit, or none

	mu     sync.Mutex
	behind map[*pacer]rate.Limit // fetches behind, and the cap each asks for
}

// paceUnlimited is the limit with no upload_limit and nobody behind: 1
// TiB/s, not rate.Inf. anacrolix turns away requests longer than the burst
// only while the limit is finite, and a request accepted while it was not
// and served under a cap would exceed the burst (a panic in anacrolix).
// BEP 3 clients ask for 16 KiB.
const paceUnlimited = rate.Limit(1 << 40)

func newPace(limit int64) *pace {
	full := paceUnlimited
	if limit > 0 {
		full = rate.Limit(limit)
	}
	return &pace{lim: rate.NewLimiter(full, paceBurst), full: full, behind: map[*pacer]rate.Limit{}}
}

// set records that fetch f asks for cap c (0: none) and applies the
// lowest cap asked for, never above full.
func (p *pace) set(f *pacer, c rate.Limit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c > 0 {
		p.behind[f] = c
	} else {
		delete(p.behind, f)
	}
	l := p.full
	for _, c := range p.behind {
		l = min(l, c)
	}
	if p.lim.Limit() != l {
		p.lim.SetLimit(l)
	}
}

// pacer is one fetch's view of its uploads: the most it sent over a
// paceWindow, and whether it asks its swarm to pace them.
type pacer struct {
	p     *pace
	at    []time.Time // samples of the bytes sent, over the last paceWindow
	sent  []int64
	peak  float64 // bytes per second
	paced bool
}

// step takes the bytes the fetch's torrent has sent so far, the pieces
// this host holds and the median its peers hold (ok false: no peers), and
// paces the swarm's uploads while the host is paceBehind pieces behind.
func (f *pacer) step(now time.Time, sent int64, mine, median int, ok bool) {
	f.at, f.sent = append(f.at, now), append(f.sent, sent)
	for len(f.at) > 1 && now.Sub(f.at[0]) > paceWindow {
		f.at, f.sent = f.at[1:], f.sent[1:]
	}
	if d := now.Sub(f.at[0]); d >= paceWindow*4/5 {
		f.peak = max(f.peak, float64(f.sent[len(f.sent)-1]-f.sent[0])/d.Seconds())
	}
	behind := ok && f.peak > 0 && mine+paceBehind <= median
	if behind == f.paced {
		return
	}
	f.paced = behind
	if behind {
		f.p.set(f, rate.Limit(paceShare*f.peak))
	} else {
		f.p.set(f, 0)
	}
}

// stop lifts the fetch's cap, if it set one.
func (f *pacer) stop() {
	if f.paced {
		f.p.set(f, 0)
	}
}
