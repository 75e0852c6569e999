package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/prestaged/prestaged/digest"
	"golang.org/x/sys/unix"
)

// Presence says how much of a digest's content the store holds.
type Presence int

const (
	Absent   Presence = iota // neither blob nor staging file
	Partial                  // a staging file; Holding.Bytes is its complete prefix
	Complete                 // a verified blob
)

func (p Presence) String() string {
	switch p {
	case Partial:
		return "partial"
	case Complete:
		return "complete"
	}
	return "absent"
}

// Holding is what Have reports for one digest.
type Holding struct {
	Presence Presence
	Bytes    int64 // complete prefix (the blob's size when Complete)
	Writing  bool  // Partial only: a process holds the staging file's flock
}

// Have reports how much of d the store holds right now.
func (s *Store) Have(d digest.Digest) (Holding, error) {
	if fi, err := LstatRegular(s.BlobPath(d)); err == nil {
		return Holding{Presence: Complete, Bytes: fi.Size()}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return Holding{}, fmt.Errorf("store: %s: %w", d.Short(), err)
	}
	f, err := OpenRegular(s.StagingPath(d))
	if errors.Is(err, os.ErrNotExist) {
		// The staging file may have just been renamed into place.
		if fi, err := LstatRegular(s.BlobPath(d)); err == nil {
			return Holding{Presence: Complete, Bytes: fi.Size()}, nil
		}
		return Holding{Presence: Absent}, nil
	}
	if err != nil {
		return Holding{}, fmt.Errorf("store: %s: %w", d.Short(), err)
	}
	defer f.Close()
	n, err := s.prefix(d, f)
	if err != nil {
		return Holding{}, err
	}
	return Holding{Presence: Partial, Bytes: n, Writing: writerHolds(f)}, nil
}

// prefix is the complete-prefix length of the staging file f of d: the
// progress record when bytes land out of order, else the file's size.
func (s *Store) prefix(d digest.Digest, f *os.File) (int64, error) {
	if n, ok, err := s.readProgress(d); err != nil {
		return 0, fmt.Errorf("store: %s: %w", d.Short(), err)
	} else if ok {
		return n, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", d.Short(), err)
	}
	return fi.Size(), nil
}

// readProgress reads the progress record of d: ok is false when there is
// none or it does not parse (the file's size is the prefix then). A
// progress path that is not a regular file is an error: it was not
// prestaged that put it there.
func (s *Store) readProgress(d digest.Digest) (n int64, ok bool, err error) {
	b, err := readRegular(s.ProgressPath(d))
	if errors.Is(err, ErrNotRegular) {
		return 0, false, err
	}
	if err != nil {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(string(b), 10, 64)
	return n, err == nil, nil
}

// writerHolds reports whether a writer holds the flock of the file f is open
// on. flock locks belong to open file descriptions, so f must be one opened
// just for this test: the probe takes and drops a shared lock on it.
func writerHolds(f *os.File) bool {
	ok, err := tryFlock(f, unix.LOCK_SH)
	if ok {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
	}
	return !ok && err == nil
}

func sameFile(a, b *os.File) bool {
	ai, err1 := a.Stat()
	bi, err2 := b.Stat()
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}

// FollowOptions tune Follow.
type FollowOptions struct {
	// CompleteOnly refuses staging files (store-and-forward): Follow
	// returns ErrIncomplete unless the blob is complete.
	CompleteOnly bool
}

// Polling of a growing staging file: quick while bytes keep landing, slower
// when the writer pauses. abandonGrace is how long a staging file must go
// without a writer and without growth before it counts as abandoned: it
// covers the instant between a writer creating the file and locking it.
const (
	followPollMin = 2 * time.Millisecond
	followPollMax = 10 * time.Millisecond
	abandonGrace  = 200 * time.Millisecond
	checkEvery    = 50 * time.Millisecond
)

// Follow opens bytes [off, size) of d for reading. A complete blob is read
// directly. A blob still being fetched is followed: Read returns bytes as
// they land in the staging file and blocks (polling) while the reader has
// caught up with the writer. When the staging file is renamed into blobs/
// the read continues to the end; when it vanishes without a blob, or stops
// growing with no writer holding its flock, Read returns ErrFetchAbandoned.
//
// Follow returns ErrAbsent when the store has nothing for d, and
// ErrIncomplete when opts.CompleteOnly and the blob is not complete. The
// caller closes the Follower.
func (s *Store) Follow(ctx context.Context, d digest.Digest, size, off int64, opts FollowOptions) (*Follower, error) {
	if off < 0 || off > size {
		return nil, fmt.Errorf("store: %s: offset %d outside [0, %d]", d.Short(), off, size)
	}
	fl := &Follower{ctx: ctx, s: s, d: d, size: size, pos: off}
	f, err := OpenRegular(s.BlobPath(d))
	if err == nil {
		return fl, fl.setBlob(f)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: %s: %w", d.Short(), err)
	}
	if opts.CompleteOnly {
		return nil, fmt.Errorf("store: %s: %w", d.Short(), ErrIncomplete)
	}
	f, err = OpenRegular(s.StagingPath(d))
	if err == nil {
		fl.f = f
		return fl, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: %s: %w", d.Short(), err)
	}
	// Renamed between the two opens?
	if f, err := OpenRegular(s.BlobPath(d)); err == nil {
		return fl, fl.setBlob(f)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: %s: %w", d.Short(), err)
	}
	return nil, fmt.Errorf("store: %s: %w", d.Short(), ErrAbsent)
}

// Follower reads one digest's bytes from the store, following a staging
// file as it grows. It is not safe for concurrent use.
type Follower struct {
	ctx  context.Context
	s    *Store
	d    digest.Digest
	size int64
	pos  int64

	f        *os.File
	complete bool // f is the blob: every byte below size is final
	avail    int64

	wait      time.Duration // current poll interval
	idleSince time.Time     // first poll that found no writer and no growth
	checked   time.Time     // last look at the staging file and its writer
}

// setBlob switches f to the verified blob; it closes f on a size mismatch.
func (fl *Follower) setBlob(f *os.File) error {
	fi, err := f.Stat()
	if err == nil && fi.Size() != fl.size {
		err = fmt.Errorf("blob is %d bytes, want %d", fi.Size(), fl.size)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("store: %s: %w", fl.d.Short(), err)
	}
	if fl.f != nil && fl.f != f {
		fl.f.Close()
	}
	fl.f, fl.complete, fl.avail = f, true, fl.size
	return nil
}

// Complete reports whether the Follower reads a verified blob (so far).
func (fl *Follower) Complete() bool { return fl.complete }

// Read implements io.Reader.
func (fl *Follower) Read(p []byte) (int, error) {
	if fl.pos >= fl.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	for fl.pos >= fl.avail {
		if err := fl.refresh(); err != nil {
			return 0, err
		}
	}
	p = p[:min(int64(len(p)), fl.avail-fl.pos)]
	n, err := fl.f.ReadAt(p, fl.pos)
	fl.pos += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("store: %s: short file at %d: %w", fl.d.Short(), fl.pos, io.ErrUnexpectedEOF)
	}
	return n, err
}

// refresh learns how many bytes are available, waiting for growth when the
// reader has caught up. It returns nil when avail may have changed.
func (fl *Follower) refresh() error {
	if err := fl.ctx.Err(); err != nil {
		return err
	}
	n, err := fl.s.prefix(fl.d, fl.f)
	if err != nil {
		return err
	}
	if n > fl.avail {
		fl.avail, fl.wait, fl.idleSince = min(n, fl.size), 0, time.Time{}
		if fl.avail > fl.pos {
			return nil
		}
	}
	// Growth costs one fstat to see; whether the writer is still there
	// costs an open, two stats and a lock probe, so look less often.
	if now := time.Now(); now.Sub(fl.checked) >= checkEvery {
		fl.checked = now
		if done, err := fl.checkStaging(); done || err != nil {
			return err
		}
	}
	return fl.sleep()
}

// checkStaging looks at the staging path when no byte is available: a
// vanished file means complete (renamed) or failed (removed); a file nobody
// writes for abandonGrace means the fetch was abandoned.
func (fl *Follower) checkStaging() (bool, error) {
	g, err := OpenRegular(fl.s.StagingPath(fl.d))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("store: %s: %w", fl.d.Short(), err)
	}
	if err != nil || !sameFile(fl.f, g) {
		if g != nil {
			g.Close()
		}
		return true, fl.reopen()
	}
	defer g.Close()
	if writerHolds(g) {
		fl.idleSince = time.Time{}
		return false, nil
	}
	now := time.Now()
	if fl.idleSince.IsZero() {
		fl.idleSince = now
	} else if now.Sub(fl.idleSince) >= abandonGrace {
		return true, fmt.Errorf("store: %s: no writer, %d of %d bytes staged: %w",
			fl.d.Short(), fl.avail, fl.size, ErrFetchAbandoned)
	}
	return false, nil
}

// reopen follows the content after the staging file was renamed, removed or
// replaced: to the blob, or to a new staging file (a restarted fetch).
func (fl *Follower) reopen() error {
	if f, err := OpenRegular(fl.s.BlobPath(fl.d)); err == nil {
		return fl.setBlob(f)
	} else if errors.Is(err, ErrNotRegular) {
		return fmt.Errorf("store: %s: %w", fl.d.Short(), err)
	}
	f, err := OpenRegular(fl.s.StagingPath(fl.d))
	if errors.Is(err, ErrNotRegular) {
		return fmt.Errorf("store: %s: %w", fl.d.Short(), err)
	}
	if err != nil {
		return fmt.Errorf("store: %s: staging file removed at %d of %d bytes: %w",
			fl.d.Short(), fl.avail, fl.size, ErrFetchAbandoned)
	}
	fl.f.Close()
	fl.f, fl.avail, fl.idleSince = f, 0, time.Time{}
	return nil
}

func (fl *Follower) sleep() error {
	fl.wait = min(max(fl.wait*2, followPollMin), followPollMax)
	t := time.NewTimer(fl.wait)
	defer t.Stop()
	select {
	case <-fl.ctx.Done():
		return fl.ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close releases the file.
func (fl *Follower) Close() error {
	if fl.f == nil {
		return nil
	}
	err := fl.f.Close()
	fl.f = nil
	return err
}

// ContentError marks an error of the content (an abandoned fetch, a short
// file), as opposed to one of the writer WriteNTo copies to.
type ContentError struct{ Err error }

func (e ContentError) Error() string { return e.Err.Error() }
func (e ContentError) Unwrap() error { return e.Err }

// ContentFailed tells a server that the content failed, not the writer.
func (e ContentError) ContentFailed() bool { return true }

// WriteNTo copies the next n bytes to w as they land, handing w file ranges
// (io.LimitedReader over the *os.File) so that a TCP connection sends them
// with sendfile(2) instead of through a user-space buffer. Errors of the
// content are wrapped in ContentError.
func (fl *Follower) WriteNTo(w io.Writer, n int64) (int64, error) {
	var done int64
	for done < n {
		for fl.pos >= fl.avail {
			if err := fl.refresh(); err != nil {
				return done, ContentError{err}
			}
		}
		if _, err := fl.f.Seek(fl.pos, io.SeekStart); err != nil {
			return done, ContentError{err}
		}
		want := min(fl.avail-fl.pos, n-done)
		m, err := io.Copy(w, &io.LimitedReader{R: fl.f, N: want})
		fl.pos, done = fl.pos+m, done+m
		if err != nil {
			return done, err
		}
		if m < want {
			return done, ContentError{fmt.Errorf("store: %s: short file at %d: %w", fl.d.Short(), fl.pos, io.ErrUnexpectedEOF)}
		}
	}
	return done, nil
}
