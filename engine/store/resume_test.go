package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestResumeAfterOutOfOrder: a run killed with pieces beyond the prefix
// resumes from the recorded prefix, not from the file's length.
func TestResumeAfterOutOfOrder(t *testing.T) {
	const piece = 128 << 10
	content, d, s, w := staged(t, 4*piece, 3)
	for _, p := range []int{0, 2, 3} {
		if _, err := w.WriteAt(content[p*piece:(p+1)*piece], int64(p*piece)); err != nil {
			t.Fatal(err)
		}
	}
	w.Abort() // as if killed
	w = stage(t, s, d, len(content))
	if w.Resumed() != piece {
		t.Fatalf("Resumed = %d, want %d (the complete prefix)", w.Resumed(), piece)
	}
	if _, err := w.Write(content[piece:]); err != nil {
		t.Fatal(err)
	}
	b, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	checkBlob(t, s, b, content, d)
}

// TestResumeAfterFarPieceOnly: a run killed when its only landed piece lies
// beyond the prefix has a complete prefix of 0, though the staging file has
// the image's full length. Resuming from the file's length would hash the
// hole as image bytes and fail verification.
func TestResumeAfterFarPieceOnly(t *testing.T) {
	const piece = 64 << 10
	content, d, s, w := staged(t, 4*piece, 30)
	if _, err := w.WriteAt(content[3*piece:], 3*piece); err != nil {
		t.Fatal(err)
	}
	w.Abort() // as if killed
	h, err := s.Have(d)
	if err != nil {
		t.Fatal(err)
	}
	w = stage(t, s, d, len(content))
	defer w.Abort()
	if got := []int64{h.Bytes, w.Resumed()}; !cmp.Equal(got, []int64{0, 0}) {
		t.Errorf("Have().Bytes, Resumed() = %v, want [0 0]: only the complete prefix counts", got)
	}
}
