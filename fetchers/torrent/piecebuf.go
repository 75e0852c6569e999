package torrent

import (
	"io"
	"sync"
)

// segLen is the unit in which a pieceBuf takes memory: anacrolix's request
// chunk, so a piece started from many peers costs what has arrived, not a
// whole piece.
const segLen = 1 << 14

// pieceBuf holds the chunks of one piece that landed before its SHA-1
// passed. Memory is taken a segment at a time as chunks arrive: a swarm
// starts about a piece per peer, and 4 MiB for each of them would cost a
// host far more than the bytes it actually holds unverified.
type pieceBuf struct {
	n    int64
	segs []*[segLen]byte // nil: nothing landed in that segment yet
}

var segs = sync.Pool{New: func() any { return new([segLen]byte) }}

func newPieceBuf(n int64) *pieceBuf {
	return &pieceBuf{n: n, segs: make([]*[segLen]byte, (n+segLen-1)/segLen)}
}

// seg is segment i's bytes within the piece.
func (pb *pieceBuf) seg(i int64) []byte {
	return pb.segs[i][:min(segLen, pb.n-i*segLen)]
}

func (pb *pieceBuf) WriteAt(p []byte, off int64) (int, error) {
	n := 0
	for len(p) > 0 && off < pb.n {
		i := off / segLen
		if pb.segs[i] == nil {
			pb.segs[i] = segs.Get().(*[segLen]byte)
		}
		c := copy(pb.seg(i)[off%segLen:], p)
		p, off, n = p[c:], off+int64(c), n+c
	}
	if len(p) > 0 {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// ReadAt reads what landed; a segment nothing landed in ends the read with
// io.EOF, as the end of the piece does.
func (pb *pieceBuf) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for len(p) > 0 {
		i := off / segLen
		if off >= pb.n || pb.segs[i] == nil {
			return n, io.EOF
		}
		c := copy(p, pb.seg(i)[off%segLen:])
		p, off, n = p[c:], off+int64(c), n+c
	}
	return n, nil
}

// bytes assembles the piece from off on into one buffer, so that it reaches
// the destination in one write (each write that grows a staging file's
// prefix records it). done returns the buffer.
func (pb *pieceBuf) bytes(off int64) (b []byte, done func()) {
	bp := pieceBufs.Get().(*[]byte)
	if int64(cap(*bp)) < pb.n {
		*bp = make([]byte, pb.n)
	}
	b = (*bp)[:pb.n-off]
	n, _ := pb.ReadAt(b, off)
	clear(b[n:]) // unreachable for a piece whose SHA-1 passed
	return b, func() { pieceBufs.Put(bp) }
}

var pieceBufs = sync.Pool{New: func() any { return new([]byte) }}

// free returns the segments.
func (pb *pieceBuf) free() {
	for i, s := range pb.segs {
		if s != nil {
			segs.Put(s)
			pb.segs[i] = nil
		}
	}
}
