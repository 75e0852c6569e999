package torrent

import (
	"fmt"
	"io"
	"sync"
)

// memDst is an in-memory fetchers.Dst of a fixed size. Offset is the
// complete prefix; it records every write so tests can see that staged
// bytes were not written again and that each piece landed once.
type memDst struct {
	mu      sync.Mutex
	data    []byte
	landed  []bool // per byte: simple, and images in tests are small
	off     int64
	writes  int
	below   int64 // bytes written below the prefix at the time of the write
	written int64
}

func newMemDst(size int, staged []byte) *memDst {
	d := &memDst{data: make([]byte, size), landed: make([]bool, size)}
	copy(d.data, staged)
	for i := range staged {
		d.landed[i] = true
	}
	d.off = int64(len(staged))
	return d
}

func (d *memDst) Write(p []byte) (int, error) {
	d.mu.Lock()
	off := d.off
	d.mu.Unlock()
	return d.WriteAt(p, off)
}

func (d *memDst) WriteAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if off < 0 || off+int64(len(p)) > int64(len(d.data)) {
		return 0, fmt.Errorf("memDst: %d bytes at %d past %d", len(p), off, len(d.data))
	}
	copy(d.data[off:], p)
	d.writes++
	d.written += int64(len(p))
	d.below += max(0, min(d.off, off+int64(len(p)))-off)
	for i := range p {
		d.landed[off+int64(i)] = true
	}
	for d.off < int64(len(d.data)) && d.landed[d.off] {
		d.off++
	}
	return len(p), nil
}

func (d *memDst) ReadAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if off >= int64(len(d.data)) {
		return 0, io.EOF
	}
	n := copy(p, d.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (d *memDst) Beat() {}

func (d *memDst) Offset() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.off
}

// stats returns the bytes written and those written below the prefix.
func (d *memDst) stats() (written, below int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.written, d.below
}

func (d *memDst) bytes() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]byte(nil), d.data...)
}
