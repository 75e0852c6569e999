package torrent

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// A host far behind its peers paces its uploads, so that its own uplink
// queue stops delaying its downloads: its block requests and
// acknowledgements leave behind whatever it uploads, and with the uplink
// full its downlink idles between them. A fetching host that holds at least
// Config.PaceBehind pieces fewer than the median of its peers caps what its
// swarm uploads at Config.PaceShare of the most it ever uploaded over a
// Config.PaceWindow, until it catches up (docs/swarm.md has the runs).

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

// newPace makes the limiter of a swarm with upload_limit limit (0: none)
// that lets out burst bytes at once: a few blocks, as a full megabyte
// would fill a slow link's queue.
func newPace(limit int64, burst int) *pace {
	full := paceUnlimited
	if limit > 0 {
		full = rate.Limit(limit)
	}
	return &pace{lim: rate.NewLimiter(full, burst), full: full, behind: map[*pacer]rate.Limit{}}
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
// PaceWindow, and whether it asks its swarm to pace them.
type pacer struct {
	p     *pace
	cfg   *Config
	at    []time.Time // samples of the bytes sent, over the last PaceWindow
	sent  []int64
	peak  float64 // bytes per second
	paced bool
}

// step takes the bytes the fetch's torrent has sent so far, the pieces
// this host holds and the median its peers hold (ok false: no peers), and
// applies paceCap.
func (f *pacer) step(now time.Time, sent int64, mine, median int, ok bool) {
	f.at, f.sent = append(f.at, now), append(f.sent, sent)
	for len(f.at) > 1 && now.Sub(f.at[0]) > f.cfg.PaceWindow {
		f.at, f.sent = f.at[1:], f.sent[1:]
	}
	if d := now.Sub(f.at[0]); d >= f.cfg.PaceWindow*4/5 {
		f.peak = max(f.peak, float64(f.sent[len(f.sent)-1]-f.sent[0])/d.Seconds())
	}
	c := paceCap(f.cfg, f.peak, mine, median, ok)
	if paced := c > 0; paced != f.paced {
		f.paced = paced
		f.p.set(f, c)
	}
}

// stop lifts the fetch's cap, if it set one.
func (f *pacer) stop() {
	if f.paced {
		f.p.set(f, 0)
	}
}
