package safe

import (
	"context"
	"time"
)

// Tick calls f every d in a new goroutine (see Go) until ctx ends.
func Tick(ctx context.Context, d time.Duration, f func(now time.Time)) {
	Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				f(now)
			}
		}
	})
}
