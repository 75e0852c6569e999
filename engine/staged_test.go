package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestPlanStagedCountsCompletePrefix: bytes a swarm landed out of order
// beyond the complete prefix will be fetched again by an in-order source, so
// the plan (and the free-space preflight, which subtracts Staged) must count
// only the prefix. A staging file with just its last piece is sparse but has
// the image's full length.
func TestPlanStagedCountsCompletePrefix(t *testing.T) {
	const piece = 64 << 10
	v, d := testutil.Image(t, 8*piece, 9)
	tests := []struct {
		name       string
		pieces     []int
		wantStaged int64
	}{
		{"nothing", nil, 0},
		{"prefix", []int{0, 1}, 2 * piece},
		{"last piece only", []int{7}, 0},
		{"prefix and a far piece", []int{0, 5}, piece},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			h.serve("m", v)
			w, err := h.store.Stage(context.Background(), d, int64(len(v)))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.pieces {
				if _, err := w.WriteAt(v[p*piece:(p+1)*piece], int64(p*piece)); err != nil {
					t.Fatal(err)
				}
			}
			w.Abort()
			p, err := h.engine(h.img("a", v, d, "m")).Plan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			it := p.Items[0]
			if it.Staged != tt.wantStaged || strings.Contains(it.Describe(), "verified blob already in the store") {
				t.Errorf("Staged = %d, want %d (the complete prefix); Describe: %s", it.Staged, tt.wantStaged, it.Describe())
			}
		})
	}
}
