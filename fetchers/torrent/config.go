package torrent

import (
	"log/slog"
	"time"
)

// Config configures a Swarm. The zero value listens on a random port of
// every address, with no tracker and no upload limit; every tuning field
// left zero takes its DefaultConfig value (New fills them in). The
// measurements behind the defaults are in docs/swarm.md.
type Config struct {
	// Listen is the host:port peers connect to (the spec's torrent.listen,
	// e.g. ":6881"). Empty means port 0: any free port.
	Listen string
	// Tracker is an announce URL added to every torrent, besides those of its
	// metainfo. Empty: explicit peers only.
	Tracker string
	// UploadLimit caps what the Swarm uploads, in bytes per second. 0: none.
	UploadLimit int64
	// StallTimeout is the stall timeout of the watchdog the caller wraps
	// every fetch in (fetchers.WithStallTimeout), which the swarm beats while
	// it makes progress; Info gives up after it with no info sent.
	StallTimeout time.Duration
	// DHT and PEX turn on peer discovery beyond explicit peers and the
	// tracker. Off by default: a farm knows its peers.
	DHT, PEX bool
	// Logger receives the BitTorrent client's messages. nil: discarded.
	Logger *slog.Logger
	// Events receives the Swarm's own messages (what a fetch took from the
	// origin, why it stalled). nil: discarded.
	Events *slog.Logger

	// Peers and the client.

	// PeerRefresh bounds a tracker announce, and is how often Info offers its explicit peers again.
	PeerRefresh time.Duration
	// PeerOffer is how often a fetch offers its explicit peers again, to find hosts that finished and now seed.
	PeerOffer time.Duration
	// DialsPerSecond caps how fast the client dials peers.
	DialsPerSecond int
	// MaxPeerRequests caps the block requests outstanding at one peer, so that stolen requests arrive as few duplicates.
	MaxPeerRequests int
	// ThrottledRequests is what a connection the gate throttles may have outstanding.
	ThrottledRequests int
	// WriterWake is how often an idle connection's writer wakes to send blocks nobody woke it for.
	WriterWake time.Duration

	// Stall patience (see patience.go).

	// LookEvery is how often a fetch looks for progress short of a piece, at most (and a quarter of StallTimeout).
	LookEvery time.Duration
	// MinQuiet is the least a fetch may go without progress, whatever StallTimeout (a writer asleep WriterWake).
	MinQuiet time.Duration
	// QuietPieces is how many piece times (one piece alone from the origin) a swarm may go without progress.
	QuietPieces int
	// QuietArrivals is how many times the pace of the origin's pieces a swarm the origin feeds may go without progress.
	QuietArrivals int
	// QuietFirst is how long a swarm the origin feeds may go without progress before its first origin piece.
	QuietFirst time.Duration
	// MetainfoRetry and MetainfoRetryMax are the first and the longest wait between tries of a lost metainfo.
	MetainfoRetry, MetainfoRetryMax time.Duration
	// MetainfoPatience is how long a fetch tries for its metainfo at least, beyond StallTimeout.
	MetainfoPatience time.Duration

	// Piece order and the rarity gate (see gate.go).

	// Window is how many missing pieces a fetch asks for before any other (InOrder sets its own).
	Window int
	// GateFanOut is how many new hosts each holder of a piece feeds at once.
	GateFanOut int
	// GateDoubling is how often the gate doubles its limit for a held piece, in a swarm without an origin.
	GateDoubling time.Duration
	// GateRarePart: a piece fewer than this part of the ranked hosts hold (at least 2) is rare.
	GateRarePart int
	// GateTick is how often a fetch looks at what its peers hold; a view of them is reused this long.
	GateTick time.Duration

	// The origin (see origin.go).

	// OriginWindow is how many pieces no peer holds may be in flight from the origin at once.
	OriginWindow int
	// OriginParallel is how many origin reads one host makes at once.
	OriginParallel int
	// OriginTick is how often a host looks at what the swarm holds for the origin.
	OriginTick time.Duration
	// OriginSettle is how long the set of peers must hold still before the origin is asked, at most OriginSettleMax.
	OriginSettle, OriginSettleMax time.Duration
	// OriginPatience is how long a piece waits for its owner before the next host in rank reads it, at first.
	OriginPatience time.Duration
	// OriginPatienceMax caps how far observed reads make the patience grow.
	OriginPatienceMax time.Duration
	// OriginRetry is how soon a failed origin read is tried again, at first; it doubles up to the patience.
	OriginRetry time.Duration
	// OriginArrivals is how many of the latest origin pieces their pace is measured over.
	OriginArrivals int

	// Uploads (see pace.go and rarefirst.go).

	// PaceBehind is how many pieces behind its peers' median a host paces its uploads.
	PaceBehind int
	// PaceShare is the part of its peak upload rate a host behind keeps.
	PaceShare float64
	// PaceWindow is what the peak upload rate is measured over.
	PaceWindow time.Duration
	// PaceBurst is what the upload limiter lets out at once, in bytes.
	PaceBurst int
	// RareHold is how long after a block of a rarer piece a block waits.
	RareHold time.Duration
	// RareRetry is how soon a connection with blocks held back asks again.
	RareRetry time.Duration
	// RareBehind is how many pieces behind the median peer a peer is served without waiting.
	RareBehind int
}

// DefaultStallTimeout is how long a fetch may go without progress when
// Config.StallTimeout is zero.
const DefaultStallTimeout = 30 * time.Second

// DefaultWindow is how many missing pieces a fetch asks for before any
// other: 16 MiB of 4 MiB pieces.
const DefaultWindow = 4

// DefaultConfig is the tuning the testbed settled on (docs/swarm.md),
// listening on any port, with no tracker and no upload limit.
func DefaultConfig() Config {
	const writerWake = 5 * time.Second
	return Config{
		StallTimeout: DefaultStallTimeout,

		PeerRefresh:       5 * time.Second,
		PeerOffer:         time.Second,
		DialsPerSecond:    100,
		MaxPeerRequests:   8,
		ThrottledRequests: 1,
		WriterWake:        writerWake,

		LookEvery:        time.Second,
		MinQuiet:         writerWake + time.Second,
		QuietPieces:      10,
		QuietArrivals:    4 * 8, // four full origin windows
		QuietFirst:       30 * time.Second,
		MetainfoRetry:    250 * time.Millisecond,
		MetainfoRetryMax: 2 * time.Second,
		MetainfoPatience: 30 * time.Second,

		Window:       DefaultWindow,
		GateFanOut:   5,
		GateDoubling: 2 * time.Second,
		GateRarePart: 4,
		GateTick:     200 * time.Millisecond,

		OriginWindow:      8,
		OriginParallel:    2,
		OriginTick:        100 * time.Millisecond,
		OriginSettle:      time.Second,
		OriginSettleMax:   5 * time.Second,
		OriginPatience:    5 * time.Second,
		OriginPatienceMax: 30 * time.Second,
		OriginRetry:       time.Second,
		OriginArrivals:    8,

		PaceBehind: 4,
		PaceShare:  0.7,
		PaceWindow: 5 * time.Second,
		PaceBurst:  256 << 10,
		RareHold:   time.Second,
		RareRetry:  50 * time.Millisecond,
		RareBehind: 4,
	}
}

// withDefaults returns c with every zero tuning field set from
// DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	fill(&c.StallTimeout, d.StallTimeout)
	fill(&c.PeerRefresh, d.PeerRefresh)
	fill(&c.PeerOffer, d.PeerOffer)
	fill(&c.DialsPerSecond, d.DialsPerSecond)
	fill(&c.MaxPeerRequests, d.MaxPeerRequests)
	fill(&c.ThrottledRequests, d.ThrottledRequests)
	fill(&c.WriterWake, d.WriterWake)
	fill(&c.LookEvery, d.LookEvery)
	fill(&c.MinQuiet, d.MinQuiet)
	fill(&c.QuietPieces, d.QuietPieces)
	fill(&c.QuietArrivals, d.QuietArrivals)
	fill(&c.QuietFirst, d.QuietFirst)
	fill(&c.MetainfoRetry, d.MetainfoRetry)
	fill(&c.MetainfoRetryMax, d.MetainfoRetryMax)
	fill(&c.MetainfoPatience, d.MetainfoPatience)
	fill(&c.Window, d.Window)
	fill(&c.GateFanOut, d.GateFanOut)
	fill(&c.GateDoubling, d.GateDoubling)
	fill(&c.GateRarePart, d.GateRarePart)
	fill(&c.GateTick, d.GateTick)
	fill(&c.OriginWindow, d.OriginWindow)
	fill(&c.OriginParallel, d.OriginParallel)
	fill(&c.OriginTick, d.OriginTick)
	fill(&c.OriginSettle, d.OriginSettle)
	fill(&c.OriginSettleMax, d.OriginSettleMax)
	fill(&c.OriginPatience, d.OriginPatience)
	fill(&c.OriginPatienceMax, d.OriginPatienceMax)
	fill(&c.OriginRetry, d.OriginRetry)
	fill(&c.OriginArrivals, d.OriginArrivals)
	fill(&c.PaceBehind, d.PaceBehind)
	fill(&c.PaceShare, d.PaceShare)
	fill(&c.PaceWindow, d.PaceWindow)
	fill(&c.PaceBurst, d.PaceBurst)
	fill(&c.RareHold, d.RareHold)
	fill(&c.RareRetry, d.RareRetry)
	fill(&c.RareBehind, d.RareBehind)
	return c
}

// fill sets *v to d when *v is zero (or negative, which no field means).
func fill[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
