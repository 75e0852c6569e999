package fetchers

import (
	"context"
	"net"
)

// BoundedDial dials as d does, but gives up once the stall watch of the
// fetch (WithStallTimeout) would cut it, when that is sooner than
// d.Timeout: a host that drops the handshake is left after the spec's
// stall_timeout, as a transfer that stops is, and the error says it was
// the dial.
func BoundedDial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if budget, ok := StallBudget(ctx); ok && (d.Timeout <= 0 || budget < d.Timeout) {
			dd := *d
			dd.Timeout = max(budget, 1)
			return dd.DialContext(ctx, network, addr)
		}
		return d.DialContext(ctx, network, addr)
	}
}
