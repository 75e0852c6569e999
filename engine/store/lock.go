package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockPoll is how often Lock tries again while it waits.
const lockPoll = 100 * time.Millisecond

// Lock takes the store's reconciler lock, waiting up to wait (0: not at all).
// The returned function releases it. The lock is an flock, so a killed
// process never leaves it held; the staging files use the same kind
// (tryFlock).
func (s *Store) Lock(ctx context.Context, wait time.Duration) (func(), error) {
	// A FIFO at the lock path would block the open; a symlink would lock
	// (and create) its target.
	f, err := OpenRegularFile(s.lockPath(), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.lockPath(), err)
	}
	deadline := time.Now().Add(wait)
	for {
		ok, err := tryFlock(f, unix.LOCK_EX)
		switch {
		case err != nil:
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", s.lockPath(), err)
		case ok:
			return func() { f.Close() }, nil // closing the descriptor releases the lock
		case !time.Now().Before(deadline):
			f.Close()
			return nil, fmt.Errorf("%w (%s); wait with --wait DURATION or try later", ErrLocked, s.lockPath())
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", s.lockPath(), ctx.Err())
		case <-time.After(min(lockPoll, time.Until(deadline))):
		}
	}
}

// tryFlock takes an flock of kind how (LOCK_EX or LOCK_SH) on f without
// waiting; ok is false when another open file description holds one that
// conflicts.
func tryFlock(f *os.File, how int) (ok bool, err error) {
	err = unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
