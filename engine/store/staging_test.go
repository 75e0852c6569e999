package store_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/internal/testutil"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stage(t testing.TB, s *store.Store, d digest.Digest, size int) *store.Staging {
	t.Helper()
	w, err := s.Stage(context.Background(), d, int64(size))
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	return w
}

// staged is an image of n bytes from seed, its digest, and its staging
// in a new store.
func staged(t testing.TB, n int, seed uint64) ([]byte, digest.Digest, *store.Store, *store.Staging) {
	t.Helper()
	content, d := testutil.Image(t, n, seed)
	s := openStore(t)
	return content, d, s, stage(t, s, d, n)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestStageResume: bytes left in staging by an earlier run are kept and
// rehashed, so the committed digest covers the whole file, not the rest.
func TestStageResume(t *testing.T) {
	const size = 3<<20 + 123
	content, d := testutil.Image(t, size, 1)
	tests := []struct {
		name       string
		leftover   []byte // staging file content before Stage
		progress   string // progress record, "" for none
		wantResume int64
	}{
		{"nothing staged", nil, "", 0},
		{"half staged", content[:size/2], "", size / 2},
		{"all staged", content, "", size},
		{"longer than the image", append(bytes.Clone(content), 1, 2, 3), "", 0},
		{"progress record below the file size", content[:2<<20], "1048576", 1 << 20},
		{"unparsable progress record", content[:2<<20], "junk", 2 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			if tt.leftover != nil {
				if err := os.WriteFile(s.StagingPath(d), tt.leftover, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.progress != "" {
				if err := os.WriteFile(s.ProgressPath(d), []byte(tt.progress), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w := stage(t, s, d, size)
			if got := []int64{w.Resumed(), w.Offset()}; !cmp.Equal(got, []int64{tt.wantResume, tt.wantResume}) {
				t.Fatalf("Resumed, Offset = %v, want %d", got, tt.wantResume)
			}
			if _, err := w.Write(content[w.Offset():]); err != nil {
				t.Fatal(err)
			}
			b, err := w.Commit()
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			checkBlob(t, s, b, content, d)
		})
	}
}

func checkBlob(t *testing.T, s *store.Store, b store.Blob, content []byte, d digest.Digest) {
	t.Helper()
	if diff := cmp.Diff(store.Blob{Digest: d, Path: s.BlobPath(d), Size: int64(len(content))}, b,
		cmp.Comparer(func(a, b digest.Digest) bool { return a == b }), cmpopts.IgnoreUnexported(store.Blob{})); diff != "" {
		t.Errorf("Blob (-want +got):\n%s", diff)
	}
	got, err := os.ReadFile(s.BlobPath(d))
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("blob content differs from the image (err %v)", err)
	}
	if fi, err := os.Stat(s.BlobPath(d)); err != nil || fi.Mode().Perm() != 0o444 {
		t.Errorf("blob mode: %v %v, want 0444", fi.Mode(), err)
	}
	if exists(s.StagingPath(d)) || exists(s.ProgressPath(d)) {
		t.Error("staging file or progress record left after Commit")
	}
}

// TestWriteAtOutOfOrder: the complete prefix grows only when the gap before
// a landed piece fills, and the progress record tells peer servers.
func TestWriteAtOutOfOrder(t *testing.T) {
	const piece = 256 << 10
	content, d := testutil.Image(t, 5*piece, 2)
	type step struct {
		piece        int
		wantOffset   int64
		wantProgress string // written before the first out-of-order byte lands
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"reverse", []step{{4, 0, "0"}, {3, 0, "0"}, {2, 0, "0"}, {1, 0, "0"}, {0, 5 * piece, strconv.Itoa(5 * piece)}}},
		{"gap filled in the middle", []step{{0, piece, strconv.Itoa(piece)}, {2, piece, strconv.Itoa(piece)},
			{4, piece, strconv.Itoa(piece)}, {1, 3 * piece, strconv.Itoa(3 * piece)}, {3, 5 * piece, strconv.Itoa(5 * piece)}}},
		{"same piece twice", []step{{1, 0, "0"}, {1, 0, "0"}, {0, 2 * piece, strconv.Itoa(2 * piece)},
			{0, 2 * piece, strconv.Itoa(2 * piece)}, {2, 3 * piece, strconv.Itoa(3 * piece)}, {4, 3 * piece, strconv.Itoa(3 * piece)},
			{3, 5 * piece, strconv.Itoa(5 * piece)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			w := stage(t, s, d, len(content))
			for i, st := range tt.steps {
				off := int64(st.piece * piece)
				if _, err := w.WriteAt(content[off:off+piece], off); err != nil {
					t.Fatalf("step %d: WriteAt: %v", i, err)
				}
				progress, _ := os.ReadFile(s.ProgressPath(d))
				got := []string{strconv.FormatInt(w.Offset(), 10), string(progress)}
				want := []string{strconv.FormatInt(st.wantOffset, 10), st.wantProgress}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("step %d (piece %d): offset, progress (-want +got):\n%s", i, st.piece, diff)
				}
			}
			b, err := w.Commit()
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			checkBlob(t, s, b, content, d)
		})
	}
}

// TestWriteAfterPieces: an in-order source taking over from a swarm (a
// fallback) writes from the complete prefix on, through pieces that landed
// beyond it, and the prefix follows its writes instead of jumping past them.
func TestWriteAfterPieces(t *testing.T) {
	const piece = 256 << 10
	content, d, s, w := staged(t, 5*piece, 3)
	for _, p := range []int{0, 2, 4} {
		off := int64(p * piece)
		if _, err := w.WriteAt(content[off:off+piece], off); err != nil {
			t.Fatalf("WriteAt piece %d: %v", p, err)
		}
	}
	for off := w.Offset(); off < int64(len(content)); {
		n, err := w.Write(content[off:min(off+100<<10, int64(len(content)))])
		if err != nil {
			t.Fatalf("Write at %d: %v (prefix %d)", off, err, w.Offset())
		}
		if off += int64(n); w.Offset() != off {
			t.Fatalf("after an in-order write up to %d the prefix is %d", off, w.Offset())
		}
	}
	b, err := w.Commit()
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	checkBlob(t, s, b, content, d)
}

func TestCommitRefuses(t *testing.T) {
	content, d := testutil.Image(t, 1<<20, 4)
	other, _ := testutil.Image(t, 1<<20, 5)
	tests := []struct {
		name        string
		write       []byte
		wantErr     error
		wantStaging bool // kept for a resume
	}{
		{"wrong digest", other, store.ErrDigestMismatch, false},
		{"short", content[:1000], store.ErrSizeMismatch, true},
		{"empty", nil, store.ErrSizeMismatch, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			w := stage(t, s, d, len(content))
			if _, err := w.Write(tt.write); err != nil {
				t.Fatal(err)
			}
			_, err := w.Commit()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Commit: %v, want %v", err, tt.wantErr)
			}
			if _, ok := s.Blob(d); ok || exists(s.BlobPath(d)) {
				t.Error("a blob appeared for bytes that failed verification")
			}
			if got := exists(s.StagingPath(d)); got != tt.wantStaging {
				t.Errorf("staging file exists = %t, want %t", got, tt.wantStaging)
			}
		})
	}
}

func TestOverflow(t *testing.T) {
	content, d := testutil.Image(t, 1000, 6)
	tests := []struct {
		name  string
		write func(w *store.Staging) error
	}{
		{"Write past the end", func(w *store.Staging) error { _, err := w.Write(append(bytes.Clone(content), 0)); return err }},
		{"Write after the end", func(w *store.Staging) error {
			if _, err := w.Write(content); err != nil {
				return err
			}
			_, err := w.Write([]byte{0})
			return err
		}},
		{"WriteAt past the end", func(w *store.Staging) error { _, err := w.WriteAt(content[:10], 995); return err }},
		{"WriteAt negative", func(w *store.Staging) error { _, err := w.WriteAt(content[:10], -1); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			w := stage(t, s, d, len(content))
			defer w.Abort()
			if err := tt.write(w); !errors.Is(err, store.ErrOverflow) {
				t.Errorf("got %v, want ErrOverflow", err)
			}
			if fi, err := os.Stat(s.StagingPath(d)); err != nil || fi.Size() > int64(len(content)) {
				t.Errorf("staging file grew past the image size: %v %v", fi.Size(), err)
			}
		})
	}
}

func TestStageBusy(t *testing.T) {
	content, d := testutil.Image(t, 1000, 7)
	s := openStore(t)
	first := stage(t, s, d, len(content))
	if _, err := s.Stage(context.Background(), d, int64(len(content))); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("second Stage while the first is open: %v, want ErrBusy", err)
	}
	first.Abort()
	second := stage(t, s, d, len(content))
	second.Discard()
	if exists(s.StagingPath(d)) {
		t.Error("Discard left the staging file")
	}
}

// TestCommitSHA512: a blob addressed by sha512 also learns its sha256, the
// address peers use.
func TestCommitSHA512(t *testing.T) {
	content, d256 := testutil.Image(t, 70_000, 8)
	d512, _, err := digest.Of(digest.SHA512, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	b := committed(t, openStore(t), content, d512)
	if b.Digest != d512 || b.SHA256 != d256 {
		t.Errorf("Commit = %v / %v, want %v / %v", b.Digest, b.SHA256, d512, d256)
	}
}

// TestWriteAtOverlapping: chunks of any length, overlapping each other and
// the complete prefix, in random order. The prefix is hashed partly from
// the chunks written and partly read back, and the digest must come out
// whole either way.
func TestWriteAtOverlapping(t *testing.T) {
	content, d := testutil.Image(t, 3<<20+17, 4)
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 20 {
		s := openStore(t)
		w := stage(t, s, d, len(content))
		type chunk struct{ off, end int }
		var chunks []chunk
		for off := 0; off < len(content); {
			end := min(off+1+rng.IntN(300<<10), len(content))
			// Some chunks reach back over the one before.
			chunks = append(chunks, chunk{max(0, off-rng.IntN(64<<10)), end})
			off = end
		}
		rng.Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })
		for _, c := range chunks {
			if _, err := w.WriteAt(content[c.off:c.end], int64(c.off)); err != nil {
				t.Fatalf("round %d: WriteAt [%d, %d): %v", round, c.off, c.end, err)
			}
		}
		b, err := w.Commit()
		if err != nil {
			t.Fatalf("round %d: Commit: %v", round, err)
		}
		checkBlob(t, s, b, content, d)
	}
}
