package torrent

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestPieceBuf: chunks land in any order, memory is taken only for the
// segments they touch, reads stop at a segment nothing landed in, and the
// assembled piece has every byte.
func TestPieceBuf(t *testing.T) {
	const n = 3*segLen + 100 // a short last piece
	data := content(n, 5)
	pb := newPieceBuf(n)
	defer pb.free()
	for _, c := range []struct{ off, len int64 }{{3 * segLen, 100}, {segLen, segLen}} {
		if w, err := pb.WriteAt(data[c.off:c.off+c.len], c.off); err != nil || int64(w) != c.len {
			t.Fatalf("WriteAt %d: %d, %v", c.off, w, err)
		}
	}
	if pb.segs[0] != nil || pb.segs[2] != nil {
		t.Error("segments nothing landed in hold memory")
	}
	buf := make([]byte, 2*segLen)
	if got, err := pb.ReadAt(buf, segLen); got != segLen || !errors.Is(err, io.EOF) || !bytes.Equal(buf[:got], data[segLen:2*segLen]) {
		t.Errorf("ReadAt across a missing segment: %d, %v", got, err)
	}
	if got, err := pb.ReadAt(buf[:10], 0); got != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt of a missing segment: %d, %v", got, err)
	}
	if _, err := pb.WriteAt(data[:2*segLen+7], 0); err != nil { // spans two segments and part of a third
		t.Fatal(err)
	}
	if _, err := pb.WriteAt(data[2*segLen:3*segLen], 2*segLen); err != nil {
		t.Fatal(err)
	}
	if w, err := pb.WriteAt(append(data[n-100:n:n], make([]byte, 100)...), n-100); w != 100 || err == nil {
		t.Errorf("WriteAt past the piece: %d, %v; want 100 and an error", w, err)
	}
	for _, off := range []int64{0, segLen + 3, n} {
		got, done := pb.bytes(off)
		if !bytes.Equal(got, data[off:]) {
			t.Errorf("bytes(%d) differ from the piece", off)
		}
		done()
	}
}
