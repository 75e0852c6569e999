package fetchers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Defaults applied by WithRetry to a RetryPolicy's zero fields.
const (
	DefaultMaxAttempts     = 5
	DefaultInitialInterval = time.Second
	DefaultMaxInterval     = 30 * time.Second
)

// RetryPolicy says how WithRetry retries one source.
type RetryPolicy struct {
	// MaxAttempts is how many attempts in a row may fail without writing a
	// byte before WithRetry gives up. An attempt that made progress resets
	// the count and the backoff interval: a flaky mirror that delivers
	// something each time is worth staying on. Zero means
	// DefaultMaxAttempts.
	MaxAttempts int
	// InitialInterval is the first wait; waits grow exponentially (with
	// jitter) up to MaxInterval. Zero means the defaults above.
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// OnRetry, when set, is called before each wait with the number of
	// attempts that failed in a row (from 1), the error of the last one and
	// how long WithRetry waits before the next.
	OnRetry func(attempt int, err error, wait time.Duration)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.InitialInterval <= 0 {
		p.InitialInterval = DefaultInitialInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = max(DefaultMaxInterval, p.InitialInterval)
	}
	return p
}

// WithRetry returns a Fetcher that retries f's retryable errors with
// exponential backoff. Every attempt resumes from dst.Offset(): bytes an
// earlier attempt wrote are never fetched again. Permanent errors and a done
// ctx end the retries at once; so does a stall below the floor (ErrTooSlow:
// the source answers, too slowly, and would again), and so do MaxAttempts
// failures in a row without progress; the last error is returned, wrapped,
// keeping its class.
func WithRetry(f Fetcher, p RetryPolicy) Fetcher {
	return retryFetcher{f: f, p: p.withDefaults()}
}

type retryFetcher struct {
	f Fetcher
	p RetryPolicy
}

func (r retryFetcher) Fetch(ctx context.Context, req Request, dst Dst) error {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     r.p.InitialInterval,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          2,
		MaxInterval:         r.p.MaxInterval,
	}
	failed := 0   // attempts in a row without progress
	stop := false // op decided not to retry
	var last error
	op := func() (struct{}, error) {
		before := dst.Offset()
		err := r.f.Fetch(ctx, req, dst)
		if err == nil {
			return struct{}{}, nil
		}
		last = err
		if dst.Offset() > before {
			failed = 0
			b.Reset()
		}
		failed++
		if IsPermanent(err) || errors.Is(err, ErrTooSlow) || ctx.Err() != nil || failed >= r.p.MaxAttempts {
			stop = true
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}
	notify := func(err error, wait time.Duration) {
		if r.p.OnRetry != nil {
			r.p.OnRetry(failed, err, wait)
		}
	}
	_, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(b), backoff.WithNotify(notify), backoff.WithMaxElapsedTime(0))
	switch {
	case err == nil:
		return nil
	case !stop:
		// ctx ended while waiting: say so, and what we were waiting after.
		return fmt.Errorf("retry interrupted: %w (last error: %v)", err, last)
	case IsPermanent(err) || errors.Is(err, ErrTooSlow) || ctx.Err() != nil:
		return err
	default:
		return fmt.Errorf("gave up after %d attempts without progress: %w", failed, err)
	}
}
