package fetchers

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test them with errors.Is.
var (
	// ErrNotFound: the source does not have the image. Permanent.
	ErrNotFound = errors.New("not found at source")
	// ErrTooLong: the source offered more bytes than the image's size. Permanent.
	ErrTooLong = errors.New("source sent more bytes than the image size")
	// ErrTooShort: the source ended before the image's size. Retryable.
	ErrTooShort = errors.New("source ended before the image size")
	// ErrStalled: no byte arrived for the stall timeout, or fewer than
	// StallFloor bytes did. Retryable.
	ErrStalled = errors.New("transfer stalled")
	// ErrTooSlow is wrapped, besides ErrStalled, when bytes were still
	// arriving but below StallFloor: WithRetry leaves such a source for the
	// next one instead of trying it again.
	ErrTooSlow = errors.New("source slower than the stall floor")
	// ErrNoSources: every source was tried and failed.
	ErrNoSources = errors.New("no source could deliver the image")
)

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying against the same source.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return permanent{err}
}

// Permanentf is fmt.Errorf followed by Permanent.
func Permanentf(format string, a ...any) error { return Permanent(fmt.Errorf(format, a...)) }

// IsPermanent reports whether err, or an error it wraps, was marked
// Permanent, or is ErrNotFound or ErrTooLong.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrTooLong)
}
