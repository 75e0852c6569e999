// Package fetcherstest holds what tests of fetchers share: Suite, the cases
// every Fetcher must pass; Buffer, an in-memory Dst; Fake, a Fetcher over a
// byte slice with injectable faults; and Discard for benchmarks.
//
// Product code never imports it. It imports only fetchers and digest.
package fetcherstest

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prestaged/prestaged/fetchers"
)

var (
	_ fetchers.Dst = (*Buffer)(nil)
	_ fetchers.Dst = (*Discard)(nil)
)

// Buffer is an in-memory fetchers.Dst. Write appends at Offset();
// WriteAt lands bytes anywhere, and Offset() is the complete prefix. It
// remembers how many bytes were written to it, so tests can check that
// staged bytes were not fetched again.
type Buffer struct {
	// OnWrite, when set before the fetch, is called after every write with
	// the bytes written so far (not counting the staged prefix).
	OnWrite func(written int64)

	mu      sync.Mutex
	data    []byte
	off     int64  // complete prefix
	landed  []span // ranges written above off, not yet joined to it
	written int64
	beats   atomic.Int64
}

type span struct{ off, end int64 }

// NewBuffer returns a Buffer holding staged: bytes an earlier run wrote,
// which count as neither written nor fetched.
func NewBuffer(staged []byte) *Buffer {
	return &Buffer{data: slices.Clone(staged), off: int64(len(staged))}
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n := b.writeAtLocked(p, b.off)
	b.mu.Unlock()
	b.notify()
	return n, nil
}

func (b *Buffer) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("buffer: negative offset %d", off)
	}
	b.mu.Lock()
	n := b.writeAtLocked(p, off)
	b.mu.Unlock()
	b.notify()
	return n, nil
}

func (b *Buffer) writeAtLocked(p []byte, off int64) int {
	end := off + int64(len(p))
	if end > int64(len(b.data)) {
		b.data = append(b.data, make([]byte, end-int64(len(b.data)))...)
	}
	copy(b.data[off:], p)
	b.written += int64(len(p))
	b.landed = append(b.landed, span{off, end})
	b.joinLocked()
	return len(p)
}

// joinLocked grows the complete prefix over every landed range touching it.
func (b *Buffer) joinLocked() {
	for grown := true; grown; {
		grown = false
		kept := b.landed[:0]
		for _, s := range b.landed {
			switch {
			case s.off <= b.off && s.end > b.off:
				b.off, grown = s.end, true
			case s.end > b.off:
				kept = append(kept, s)
			}
		}
		b.landed = kept
	}
}

func (b *Buffer) notify() {
	if b.OnWrite != nil {
		b.OnWrite(b.Written())
	}
}

// ReadAt reads back written bytes.
func (b *Buffer) ReadAt(p []byte, off int64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.NewReader(b.data).ReadAt(p, off)
}

// Beat counts the beats a fetcher gave.
func (b *Buffer) Beat() { b.beats.Add(1) }

// Beats is how many times Beat was called.
func (b *Buffer) Beats() int64 { return b.beats.Load() }

// Offset is the length of the complete prefix.
func (b *Buffer) Offset() int64 { return locked(&b.mu, func() int64 { return b.off }) }

// Bytes returns a copy of the complete prefix.
func (b *Buffer) Bytes() []byte {
	return locked(&b.mu, func() []byte { return slices.Clone(b.data[:b.off]) })
}

// Len is one past the highest byte ever written: a fetcher that honours
// Request.Size keeps it at or below Size.
func (b *Buffer) Len() int64 { return locked(&b.mu, func() int64 { return int64(len(b.data)) }) }

// Written counts the bytes written since NewBuffer, staged ones excluded.
func (b *Buffer) Written() int64 { return locked(&b.mu, func() int64 { return b.written }) }

// locked reads under mu what a test may ask for while a fetch still writes.
func locked[T any](mu *sync.Mutex, read func() T) T {
	mu.Lock()
	defer mu.Unlock()
	return read()
}

// Discard is a Dst that counts bytes and drops them, for benchmarks. It is
// not safe for concurrent use; WriteAt counts too, ReadAt has nothing.
type Discard struct{ N int64 }

func (d *Discard) Write(p []byte) (int, error)            { d.N += int64(len(p)); return len(p), nil }
func (d *Discard) WriteAt(p []byte, _ int64) (int, error) { return d.Write(p) }
func (d *Discard) ReadAt([]byte, int64) (int, error)      { return 0, io.EOF }
func (d *Discard) Offset() int64                          { return d.N }
func (d *Discard) Beat()                                  {}
