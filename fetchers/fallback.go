package fetchers

import (
	"context"
	"fmt"
	"strings"
)

// EventKind says what happened to a source during Fallback.
type EventKind int

const (
	// Start: the source is asked for the bytes from Offset on.
	Start EventKind = iota
	// Fail: the source failed with Err after dst had reached Offset.
	Fail
	// Done: the source delivered every byte up to the image's size.
	Done
)

func (k EventKind) String() string {
	switch k {
	case Start:
		return "start"
	case Fail:
		return "fail"
	case Done:
		return "done"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports Fallback's progress along the sources, so the engine can log
// "image X: mirror.central failed at 1.2 GiB: ...; trying parents".
type Event struct {
	Source string
	Kind   EventKind
	// Offset is dst.Offset() when the event happened: where a Start
	// resumes, where a Fail stopped, the size at Done.
	Offset int64
	// Err is the source's error for Fail, nil otherwise.
	Err error
}

// SourceError is one source's failure inside a NoSourcesError.
type SourceError struct {
	Source string
	// Offset is how far dst had got when the source failed.
	Offset int64
	Err    error
}

func (e SourceError) Error() string {
	return fmt.Sprintf("%s (at byte %d): %v", e.Source, e.Offset, e.Err)
}

func (e SourceError) Unwrap() error { return e.Err }

// NoSourcesError is returned by Fallback when every source failed. It wraps
// ErrNoSources and each source's error, so errors.Is(err, ErrNotFound) holds
// when any source did not have the image; read Failures for each source's
// own class. IsPermanent likewise holds when any source failed permanently.
type NoSourcesError struct {
	Image    string
	Failures []SourceError
}

func (e *NoSourcesError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoSources.Error())
	for i, f := range e.Failures {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep)
		b.WriteString(f.Error())
	}
	return b.String()
}

func (e *NoSourcesError) Unwrap() []error {
	errs := make([]error, 0, len(e.Failures)+1)
	errs = append(errs, ErrNoSources)
	for _, f := range e.Failures {
		errs = append(errs, f)
	}
	return errs
}

// Fallback returns a Fetcher that tries sources in order until one delivers
// the rest of the image. Each source resumes from the bytes already in dst,
// whoever wrote them; none starts again from zero. It returns nil at the
// first success, ctx's error as soon as ctx is done, and otherwise a
// *NoSourcesError naming every source and its error. onEvent, when not nil,
// is called synchronously for every Start, Fail and Done.
//
// Wrap each source in WithRetry and WithStallTimeout before handing it to
// Fallback: Fallback itself never retries a source.
func Fallback(sources []Named, onEvent func(Event)) Fetcher {
	if onEvent == nil {
		onEvent = func(Event) {}
	}
	return fallback{sources: sources, onEvent: onEvent}
}

type fallback struct {
	sources []Named
	onEvent func(Event)
}

func (f fallback) Fetch(ctx context.Context, req Request, dst Dst) error {
	all := &NoSourcesError{Image: req.Image}
	for _, s := range f.sources {
		if ctx.Err() != nil {
			return interrupted(ctx, all)
		}
		f.onEvent(Event{Source: s.Name, Kind: Start, Offset: dst.Offset()})
		err := s.Fetch(ctx, req, dst)
		if err == nil && dst.Offset() < req.Size {
			// A source breaking the contract must not end the search.
			err = fmt.Errorf("reported success at byte %d of %d: %w", dst.Offset(), req.Size, ErrTooShort)
		}
		if err == nil {
			f.onEvent(Event{Source: s.Name, Kind: Done, Offset: dst.Offset()})
			return nil
		}
		f.onEvent(Event{Source: s.Name, Kind: Fail, Offset: dst.Offset(), Err: err})
		all.Failures = append(all.Failures, SourceError{Source: s.Name, Offset: dst.Offset(), Err: err})
	}
	if ctx.Err() != nil {
		return interrupted(ctx, all)
	}
	return all
}

// interrupted is ctx's error, with what the sources tried so far said.
func interrupted(ctx context.Context, all *NoSourcesError) error {
	if len(all.Failures) == 0 {
		return context.Cause(ctx)
	}
	return fmt.Errorf("%w (after %v)", context.Cause(ctx), all.Failures)
}
