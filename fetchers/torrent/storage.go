package torrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
)

// Piece states of a backing.
const (
	pieceMissing  = iota // not in the backing; chunks may sit in a buffer
	pieceFlushing        // verified, being written to the backing
	pieceComplete        // in the backing, final
)

var errClosed = errors.New("torrent storage closed")

// testHookRead, when set by a test, runs as a read from a peer's request
// begins: it widens the window in which the torrent may close under it.
var testHookRead func()

// backing is the storage of one torrent: one file-like object holding the
// whole single-file torrent, and piece completion kept in memory (no bolt
// or sqlite files; CGO_ENABLED=0).
//
// Chunks of a piece that is not complete land in its pieceBuf, and reach w
// only once the piece's SHA-1 has passed (MarkComplete). So w only ever
// receives final bytes, written once, which is what a RandomDst's complete
// prefix promises to a peer server streaming it. The buffers hold what has
// arrived unverified, about a piece per peer, not the image.
type backing struct {
	r      io.ReaderAt
	w      io.WriterAt // nil when seeding read-only
	prefix func() int64
	info   *metainfo.Info
	onDone func() error // called by Close

	io sync.RWMutex // held for reading around I/O on r and w; Close takes it
	// flushing serialises piece writes: a piece reads the prefix to skip
	// what is final already, and another piece's write may advance the
	// prefix over it (over bytes an earlier fetch landed) before it writes.
	flushing sync.Mutex
	mu       sync.Mutex // guards what follows

	closed   bool
	state    []uint8
	bufs     map[int]*pieceBuf
	complete int
	err      error         // first failure to write a piece to w
	changed  chan struct{} // a piece completed or err was set; capacity 1
	done     chan struct{} // closed when every piece is complete
}

// newBacking prepares the storage of info's torrent. Pieces for which
// isComplete is true are in r already and are never fetched or rehashed.
func newBacking(info *metainfo.Info, r io.ReaderAt, w io.WriterAt, isComplete func(off, end int64) bool) *backing {
	b := &backing{
		r: r, w: w, info: info,
		state:   make([]uint8, info.NumPieces()),
		bufs:    make(map[int]*pieceBuf),
		changed: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	for i := range b.state {
		p := info.Piece(i)
		if isComplete(p.Offset(), p.Offset()+p.Length()) {
			b.state[i] = pieceComplete
			b.complete++
		}
	}
	if b.complete == len(b.state) {
		close(b.done)
	}
	return b
}

// OpenTorrent implements storage.ClientImpl; a backing serves only the
// torrent it was made for.
func (b *backing) OpenTorrent(_ context.Context, info *metainfo.Info, ih metainfo.Hash) (storage.TorrentImpl, error) {
	if info.TotalLength() != b.info.TotalLength() || info.NumPieces() != len(b.state) {
		return storage.TorrentImpl{}, fmt.Errorf("torrent %s: storage made for another info", ih.HexString())
	}
	return storage.TorrentImpl{
		Piece: func(p metainfo.Piece) storage.PieceImpl { return &piece{b, p.Index(), p.Offset(), p.Length()} },
		Close: b.Close,
	}, nil
}

// Close ends all I/O on r and w: once it returns, nothing reads or writes
// them again. It returns the piece buffers' memory.
func (b *backing) Close() error {
	b.io.Lock()
	defer b.io.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for i, pb := range b.bufs {
		pb.free()
		delete(b.bufs, i)
	}
	if b.onDone != nil {
		return b.onDone()
	}
	return nil
}

// progress reports how many pieces are complete and the first write error.
func (b *backing) progress() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.complete, b.err
}

func (b *backing) signal() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

// piece is one piece of a backing.
type piece struct {
	b   *backing
	i   int
	off int64
	n   int64
}

func (p *piece) ReadAt(buf []byte, off int64) (int, error) {
	if testHookRead != nil {
		testHookRead()
	}
	b := p.b
	b.io.RLock()
	defer b.io.RUnlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return readAfterClose(buf), nil
	}
	if b.state[p.i] == pieceComplete {
		b.mu.Unlock()
		return b.r.ReadAt(buf, p.off+off)
	}
	defer b.mu.Unlock()
	pb, ok := b.bufs[p.i]
	if !ok {
		return 0, io.EOF // nothing landed: the client takes the piece as missing
	}
	return pb.ReadAt(buf, off)
}

// readAfterClose answers a read that began as the torrent was closing.
// It must not fail: anacrolix v1.61.0 (PeerConn.servePeerRequest) neither
// rejects nor forgets a peer's request whose read fails once the torrent is
// closed, and then panics on the request left behind. The client takes
// such a read's bytes back under its lock, which the closing torrent holds
// until it has closed every connection, so they never reach the wire; they
// are zeros, not stale bytes, in case they ever did (a peer's SHA-1 check
// would fail them).
func readAfterClose(buf []byte) int {
	clear(buf)
	return len(buf)
}

// WriteAt lands a chunk in the piece's buffer. Chunks arriving for a piece
// already verified (endgame duplicates) are dropped.
func (p *piece) WriteAt(buf []byte, off int64) (int, error) {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return 0, errClosed
	case b.w == nil:
		return 0, fmt.Errorf("piece %d: seeding read-only", p.i)
	case b.state[p.i] != pieceMissing:
		return len(buf), nil
	}
	pb, ok := b.bufs[p.i]
	if !ok {
		pb = newPieceBuf(p.n)
		b.bufs[p.i] = pb
	}
	return pb.WriteAt(buf, off)
}

// MarkComplete is called once the piece's SHA-1 passed: its bytes go to w,
// except those below w's complete prefix, which are final there already.
func (p *piece) MarkComplete() error {
	b := p.b
	b.mu.Lock()
	pb, ok := b.bufs[p.i]
	b.mu.Unlock()
	if !ok {
		return nil
	}
	return p.land(pb.bytes)
}

// land writes the piece's verified bytes to w, from those of the piece's
// bytes(skip) on, and marks it complete. A piece no longer missing, or a
// closed backing, is left alone.
func (p *piece) land(bytes func(skip int64) ([]byte, func())) error {
	b := p.b
	b.io.RLock()
	defer b.io.RUnlock()
	b.mu.Lock()
	if b.closed || b.state[p.i] != pieceMissing {
		b.mu.Unlock()
		return nil
	}
	b.state[p.i] = pieceFlushing
	b.mu.Unlock()

	err := p.flush(bytes)

	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.signal()
	if err != nil {
		b.state[p.i] = pieceMissing
		b.err = cmpOr(b.err, fmt.Errorf("writing piece %d: %w", p.i, err))
		return b.err
	}
	b.state[p.i] = pieceComplete
	if pb, ok := b.bufs[p.i]; ok {
		delete(b.bufs, p.i)
		pb.free()
	}
	if b.complete++; b.complete == len(b.state) {
		close(b.done)
	}
	return nil
}

func (p *piece) flush(bytes func(skip int64) ([]byte, func())) error {
	p.b.flushing.Lock()
	defer p.b.flushing.Unlock()
	skip := int64(0)
	if p.b.prefix != nil {
		skip = min(max(p.b.prefix()-p.off, 0), p.n)
	}
	buf, done := bytes(skip)
	defer done()
	_, err := p.b.w.WriteAt(buf, p.off+skip)
	return err
}

// MarkNotComplete changes nothing. A missing piece keeps its buffer, whose
// chunks are requested again and overwrite it. A complete piece stays
// complete: its bytes in w are final (a peer server may have streamed them
// already) and the engine's sha256 or sha512 has the last word on them.
func (p *piece) MarkNotComplete() error { return nil }

func (p *piece) Completion() storage.Completion {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	return storage.Completion{Ok: true, Complete: b.state[p.i] == pieceComplete}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// noDefaultStorage stands in for the client's default storage, which would
// create a piece-completion database in the working directory. Every
// torrent of a Swarm brings its own backing, so it is never used.
type noDefaultStorage struct{}

func (noDefaultStorage) OpenTorrent(_ context.Context, _ *metainfo.Info, ih metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{}, fmt.Errorf("torrent %s: added without a backing", ih.HexString())
}

// completed says, per piece, whether it is complete here.
func (b *backing) completed() []bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := make([]bool, len(b.state))
	for p, st := range b.state {
		c[p] = st == pieceComplete
	}
	return c
}
