package peer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"

	"github.com/prestaged/prestaged/digest"
)

// memContent is an in-memory Content: each blob lands gradually (land),
// completes (finish) or fails (fail), like a store fed by `apply`.
type memContent struct {
	mu    sync.Mutex
	blobs map[digest.Digest]*memBlob
	opens int64 // calls of Open
}

type memBlob struct {
	data     []byte
	have     int
	complete bool
	err      error         // the fetch failed: readers stop here
	openErr  error         // Open fails (a blob of the wrong size, an I/O error)
	changed  chan struct{} // closed and replaced on every change
}

func newMemContent() *memContent { return &memContent{blobs: map[digest.Digest]*memBlob{}} }

func randomBlob(n int, seed uint64) ([]byte, digest.Digest) {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	d, _, _ := digest.Of(digest.SHA256, bytes.NewReader(b))
	return b, d
}

// add makes d known with have bytes landed.
func (c *memContent) add(d digest.Digest, data []byte, have int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blobs[d] = &memBlob{data: data, have: have, complete: have == len(data), changed: make(chan struct{})}
}

func (c *memContent) change(d digest.Digest, f func(b *memBlob)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.blobs[d]
	f(b)
	close(b.changed)
	b.changed = make(chan struct{})
}

func (c *memContent) land(d digest.Digest, have int) {
	c.change(d, func(b *memBlob) { b.have = have; b.complete = have == len(b.data) })
}

func (c *memContent) fail(d digest.Digest) {
	c.change(d, func(b *memBlob) { b.err = fmt.Errorf("fake fetch of %s failed", d.Short()) })
}

func (c *memContent) Open(ctx context.Context, d digest.Digest, size, off int64, completeOnly bool) (io.ReadCloser, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opens++
	b, ok := c.blobs[d]
	if !ok || (completeOnly && !b.complete) {
		return nil, fmt.Errorf("fake %s: %w", d.Short(), ErrNotYet)
	}
	if b.openErr != nil {
		return nil, b.openErr
	}
	return &memReader{ctx: ctx, c: c, b: b, pos: int(off)}, nil
}

func (c *memContent) opened() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opens
}

func (c *memContent) Have(d digest.Digest) (int64, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.blobs[d]
	if !ok {
		return 0, false, nil
	}
	return int64(b.have), b.complete, nil
}

type memReader struct {
	ctx context.Context
	c   *memContent
	b   *memBlob
	pos int
}

func (r *memReader) Read(p []byte) (int, error) {
	for {
		r.c.mu.Lock()
		b, changed := r.b, r.b.changed
		switch {
		case r.pos >= len(b.data):
			r.c.mu.Unlock()
			return 0, io.EOF
		case r.pos < b.have:
			n := copy(p, b.data[r.pos:b.have])
			r.pos += n
			r.c.mu.Unlock()
			return n, nil
		case b.err != nil:
			r.c.mu.Unlock()
			return 0, b.err
		}
		r.c.mu.Unlock()
		select {
		case <-changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

func (r *memReader) Close() error { return nil }
