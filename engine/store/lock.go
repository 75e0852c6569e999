package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// ErrLocked: another reconciler holds the store.
var ErrLocked = errors.New("another prestaged apply holds the store lock")

// Lock takes the store's reconciler lock, waiting up to wait (0: not at all).
// The returned function releases it. The lock is an flock, so a killed
// process never leaves it held.
func (s *Store) Lock(ctx context.Context, wait time.Duration) (func(), error) {
	// A FIFO at the lock path would block the open; a symlink would lock
	// (and create) its target.
	f, err := OpenRegularFile(s.lockPath(), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.lockPath(), err)
	}
	f.Close()
	l := flock.New(s.lockPath(), flock.SetFlag(os.O_RDONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK))
	ok, err := l.TryLock()
	if err == nil && !ok && wait > 0 {
		cctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		ok, err = l.TryLockContext(cctx, 100*time.Millisecond)
		if errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", s.lockPath(), err)
	}
	if !ok {
		return nil, fmt.Errorf("%w (%s); wait with --wait DURATION or try later", ErrLocked, s.lockPath())
	}
	return func() { l.Unlock() }, nil
}
