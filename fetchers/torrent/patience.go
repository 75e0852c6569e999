package torrent

import "time"

// quietState is what a swarm's patience depends on besides the Config: what
// the fetch learnt of the origin (zero without one).
type quietState struct {
	// pieceTime is the shortest time one piece took from the origin alone
	// (0 until one was seen): the swarm's unit of time.
	pieceTime time.Duration
	// pace is the time between the origin's pieces while it feeds the
	// swarm, else 0.
	pace time.Duration
	// first: the origin feeds the swarm and no piece from it was seen yet.
	first bool
}

// quietFor is how long a swarm fetch may go without progress before the
// watchdog should end it: the stall timeout, but at least MinQuiet (a
// connection's writer may sleep WriterWake with blocks ready), QuietPieces
// piece times (a new piece reaches five hosts at once, each at a fifth of
// its holder's link), QuietArrivals times the origin's pace (reads started
// together land together), and QuietFirst before the origin's first piece
// (nobody holds a byte until it lands).
func quietFor(cfg *Config, q quietState) time.Duration {
	d := max(cfg.StallTimeout, cfg.MinQuiet, time.Duration(cfg.QuietPieces)*q.pieceTime, time.Duration(cfg.QuietArrivals)*q.pace)
	if q.first {
		d = max(d, cfg.QuietFirst)
	}
	return d
}

// beatsQuiet reports whether a fetch that has seen no progress for idle
// beats its watchdog anyway: while idle is short of quietFor by more than
// the stall timeout, so that the watchdog, which waits a stall timeout
// after the last beat, ends the fetch once it was quiet for quietFor.
func beatsQuiet(cfg *Config, q quietState, idle time.Duration) bool {
	return idle < quietFor(cfg, q)-cfg.StallTimeout
}
