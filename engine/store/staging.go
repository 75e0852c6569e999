package store

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"

	"github.com/google/renameio/v2"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/internal/holes"
	"golang.org/x/sys/unix"
)

// Staging is the file an image's bytes land in while they are fetched. It
// hashes the complete prefix as it grows, so verification at Commit costs
// nothing extra. It implements fetchers.Dst.
//
// While a Staging is open its process holds an exclusive flock on the file:
// a peer server streaming the file to children (cut-through) takes a
// released lock with no blob as "the fetch was abandoned".
type Staging struct {
	s    *Store
	d    digest.Digest
	size int64
	f    *os.File

	mu      sync.Mutex
	h       hash.Hash // hashes [0, off) in order
	also    hash.Hash // sha256 beside a sha512 digest: its blob address for peers
	off     int64     // complete prefix
	pending spans     // landed out of order, beyond off
	random  bool      // WriteAt was used: keep the progress record
	written int64     // prefix in the progress record
	resumed int64     // bytes found staged when opened
	// rewritten are landed bytes that were written again: a Prepared
	// copies them anew at Install.
	rewritten spans
	removed   bool // the file's path was removed
	// end is one past the last byte physically written: a block of zeros
	// landing at or beyond it is left a hole (it reads as zeros), so the
	// blob of a mostly-empty disk image takes only its data.
	end   int64
	endMu sync.Mutex // end is also written by WriteAt, outside mu
}

// Stage opens (or resumes) the staging file for d, an image of size bytes.
// Bytes left by an earlier run are kept and rehashed, so a resumed fetch
// still yields a digest of the whole file.
func (s *Store) Stage(ctx context.Context, d digest.Digest, size int64) (*Staging, error) {
	p := s.StagingPath(d)
	// What Commit would rename over: something else there was put by
	// hand, and an operator should see it rather than have it replaced.
	if _, err := LstatRegular(s.BlobPath(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("staging %s: %w", d.Short(), err)
	}
	f, err := OpenRegularFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("staging %s: %w", d.Short(), err)
	}
	if ok, _ := tryFlock(f, unix.LOCK_EX); !ok {
		f.Close()
		return nil, fmt.Errorf("staging %s: %w", p, ErrBusy)
	}
	w := &Staging{s: s, d: d, size: size, f: f, h: digest.New(d.Algo())}
	if d.Algo() != digest.SHA256 {
		w.also = digest.New(digest.SHA256)
	}
	if err := w.resume(ctx); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// resume rehashes the complete prefix of an existing staging file and drops
// whatever lies beyond it.
func (w *Staging) resume(ctx context.Context) error {
	fi, err := w.f.Stat()
	if err != nil {
		return fmt.Errorf("staging %s: %w", w.d.Short(), err)
	}
	prefix := fi.Size()
	if n, ok, err := w.s.readProgress(w.d); err != nil {
		return fmt.Errorf("staging %s: %w", w.d.Short(), err)
	} else if ok && n < prefix {
		prefix = n
	}
	if prefix > w.size {
		prefix = 0 // longer than the image: not ours to trust
	}
	if err := w.f.Truncate(prefix); err != nil {
		return fmt.Errorf("staging %s: %w", w.d.Short(), err)
	}
	if err := w.hashFile(ctx, 0, prefix); err != nil {
		return err
	}
	w.off, w.resumed, w.written, w.end = prefix, prefix, prefix, prefix
	_, err = w.f.Seek(prefix, io.SeekStart)
	return err
}

// hashFile feeds [from, to) of the staging file to the hashes.
func (w *Staging) hashFile(ctx context.Context, from, to int64) error {
	buf := getBuf()
	defer putBuf(buf)
	for from < to {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(*buf)), to-from)
		m, err := w.f.ReadAt((*buf)[:n], from)
		w.hashed((*buf)[:m])
		from += int64(m)
		if err != nil {
			return fmt.Errorf("staging %s: rehash: %w", w.d.Short(), err)
		}
	}
	return nil
}

func (w *Staging) hashed(p []byte) {
	w.h.Write(p)
	if w.also != nil {
		w.also.Write(p)
	}
}

// Digest is what the staging file is fetched for.
func (w *Staging) Digest() digest.Digest { return w.d }

// Resumed is how many bytes were already staged when Stage opened the file.
func (w *Staging) Resumed() int64 { return w.resumed }

// Offset is the length of the complete prefix.
func (w *Staging) Offset() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.off
}

// Beat implements fetchers.Dst: a staging file does not watch for stalls.
func (w *Staging) Beat() {}

// Write appends p at the complete prefix (in-order sources).
func (w *Staging) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.off+int64(len(p)) > w.size {
		return 0, fmt.Errorf("staging %s: %d bytes at %d: %w", w.d.Short(), len(p), w.off, ErrOverflow)
	}
	if len(w.pending) > 0 { // nothing else landed at or past the prefix
		w.rewrote(w.off, w.off+int64(len(p)))
	}
	n, skipped, err := w.writeData(p, w.off, w.off >= w.physicalEnd())
	w.hashed(p[:n])
	w.off += int64(n)
	if skipped && !w.random && err == nil {
		// Zeros at the end were left out: the file is extended over them,
		// as a hole, so its size stays the complete prefix that peer
		// servers following it read.
		err = w.f.Truncate(w.off)
	}
	if err == nil && w.random {
		// An in-order source keeps writing where its own bytes end, so the
		// prefix must not jump over pieces that landed earlier: they are
		// written again (the same bytes, or the digest says otherwise).
		w.pending.trimBelow(w.off)
		if w.off-w.written >= progressStep || w.off == w.size {
			err = w.writeProgress()
		}
	}
	return n, err
}

// progressStep is how far an in-order source advances the prefix between
// progress records: each is a small fsynced file, too dear per write.
const progressStep = 16 << 20

// WriteAt lands p at off (out-of-order sources). The complete prefix grows,
// and is hashed, as the gap before off fills.
func (w *Staging) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > w.size {
		return 0, fmt.Errorf("staging %s: %d bytes at %d: %w", w.d.Short(), len(p), off, ErrOverflow)
	}
	beyond, err := w.beforeWriteAt(off, off+int64(len(p)))
	if err != nil {
		return 0, err
	}
	n, _, err := w.writeData(p, off, beyond)
	if err != nil {
		return n, fmt.Errorf("staging %s: %w", w.d.Short(), err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rewrote(off, off+int64(n)) // what another write landed meanwhile
	if off+int64(n) <= w.off {
		return n, nil // already part of the prefix
	}
	w.pending.add(max(off, w.off), off+int64(n))
	return n, w.advance(p[:n], off)
}

// landed is a copy of what has been written: the complete prefix and the
// spans beyond it (sorted, as pending is kept). Called with mu held.
func (w *Staging) landed() spans {
	if w.off == 0 {
		return append(spans(nil), w.pending...)
	}
	return append(spans{{0, w.off}}, w.pending...)
}

// rewrote records that [start, end) is being written, or was just
// written, over what had landed before. Called with mu held.
func (w *Staging) rewrote(start, end int64) {
	if hi := min(end, w.off); start < hi {
		w.rewritten.add(start, hi)
	}
	for _, x := range w.pending.overlap(start, end) {
		w.rewritten.add(x.start, x.end)
	}
}

// beforeWriteAt records [start, end) as rewritten where it landed
// already (a write that fails halfway changes those bytes all the same),
// and writes the progress record before the first out-of-order byte
// lands: from then on the file's size is no longer its complete prefix, and
// a peer server following the file must not serve bytes beyond it.
// It reports whether start is at or beyond what was physically written.
func (w *Staging) beforeWriteAt(start, end int64) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rewrote(start, end)
	beyond := start >= w.physicalEnd()
	if w.random {
		return beyond, nil
	}
	w.random = true
	return beyond, w.writeProgress()
}

// writeData writes p at off; beyond says nothing was ever written from off
// on, and then aligned blocks of zeros are skipped (the file has holes
// there). It reports whether it skipped any.
func (w *Staging) writeData(p []byte, off int64, beyond bool) (int, bool, error) {
	if !beyond {
		n, err := w.f.WriteAt(p, off)
		w.wrote(off + int64(n))
		return n, false, err
	}
	n, last, err := holes.WriteAt(w.f, p, off)
	w.wrote(last)
	return n, last < off+int64(n), err
}

func (w *Staging) physicalEnd() int64 {
	w.endMu.Lock()
	defer w.endMu.Unlock()
	return w.end
}

// wrote records that bytes up to end were physically written.
func (w *Staging) wrote(end int64) {
	w.endMu.Lock()
	w.end = max(w.end, end)
	w.endMu.Unlock()
}

func (w *Staging) writeProgress() error {
	if err := renameio.WriteFile(w.s.ProgressPath(w.d), []byte(strconv.FormatInt(w.off, 10)), 0o644); err != nil {
		return fmt.Errorf("staging %s: progress: %w", w.d.Short(), err)
	}
	w.written = w.off
	return nil
}

// advance hashes pending spans that now touch the prefix and records the
// prefix for peer servers. p, just written at off, is hashed from memory
// rather than read back. Called with mu held.
func (w *Staging) advance(p []byte, off int64) error {
	grew := false
	for {
		end, ok := w.pending.takeFrom(w.off)
		if !ok {
			break
		}
		if err := w.hashSpan(w.off, end, p, off); err != nil {
			return err
		}
		w.off, grew = end, true
	}
	if !grew {
		return nil
	}
	return w.writeProgress()
}

// hashSpan hashes [from, to) of the file: the part p (at off) covers from
// p, the rest read back.
func (w *Staging) hashSpan(from, to int64, p []byte, off int64) error {
	lo, hi := max(from, off), min(to, off+int64(len(p)))
	if lo >= hi {
		return w.hashFile(context.Background(), from, to)
	}
	if err := w.hashFile(context.Background(), from, lo); err != nil {
		return err
	}
	w.hashed(p[lo-off : hi-off])
	return w.hashFile(context.Background(), hi, to)
}

// ReadAt reads back staged bytes.
func (w *Staging) ReadAt(p []byte, off int64) (int, error) { return w.f.ReadAt(p, off) }

// Commit verifies size and digest, makes the file durable and moves it into
// blobs/. It returns the blob's path. On a digest mismatch the staging file
// is removed, since its bytes cannot be trusted for a resume, but stays
// open for ReadAt (to find which source sent the bad bytes) until Discard,
// which the caller must then call.
func (w *Staging) Commit() (Blob, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.off != w.size {
		w.close()
		return Blob{}, fmt.Errorf("staging %s: have %d of %d bytes: %w", w.d.Short(), w.off, w.size, ErrSizeMismatch)
	}
	if got := digest.Sum(w.d.Algo(), w.h); got != w.d {
		w.remove()
		return Blob{}, fmt.Errorf("staging: got %s, want %s: %w", got, w.d, ErrDigestMismatch)
	}
	defer w.close()
	if err := w.f.Truncate(w.size); err != nil { // trailing zeros left as a hole
		return Blob{}, fmt.Errorf("staging %s: %w", w.d.Short(), err)
	}
	if err := w.f.Sync(); err != nil {
		return Blob{}, fmt.Errorf("staging %s: fsync: %w", w.d.Short(), err)
	}
	if err := w.f.Chmod(0o444); err != nil {
		return Blob{}, fmt.Errorf("staging %s: %w", w.d.Short(), err)
	}
	dst := w.s.BlobPath(w.d)
	if err := os.Rename(w.f.Name(), dst); err != nil {
		return Blob{}, fmt.Errorf("staging %s: %w", w.d.Short(), err)
	}
	os.Remove(w.s.ProgressPath(w.d))
	if err := syncDir(w.s.blobDir(w.d.Algo())); err != nil {
		return Blob{}, err
	}
	b := Blob{Digest: w.d, Path: dst, Size: w.size, verified: true}
	if w.also != nil {
		b.SHA256 = digest.Sum(digest.SHA256, w.also)
	}
	return b, nil
}

// Abort closes the staging file and keeps its bytes for a later resume.
func (w *Staging) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.close()
}

// Discard closes and removes the staging file (its bytes are known bad).
func (w *Staging) Discard() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.remove()
	w.close()
}

func (w *Staging) remove() {
	if w.removed {
		return // the path may be another Staging's by now
	}
	w.removed = true
	os.Remove(w.f.Name())
	os.Remove(w.s.ProgressPath(w.d))
}

func (w *Staging) close() {
	if w.f != nil {
		w.f.Close() // releases the flock
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
