package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSpans: the set operations a Prepared uses to know what it has yet
// to copy.
func TestSpans(t *testing.T) {
	s := spans{{0, 10}, {20, 30}, {40, 50}}
	for _, c := range []struct {
		name      string
		got, want spans
	}{
		{"overlap", s.overlap(5, 45), spans{{5, 10}, {20, 30}, {40, 45}}},
		{"overlap of nothing", s.overlap(10, 20), nil},
		{"minus a middle", s.minus(spans{{22, 25}}), spans{{0, 10}, {20, 22}, {25, 30}, {40, 50}}},
		{"minus across", s.minus(spans{{5, 45}}), spans{{0, 5}, {45, 50}}},
		{"minus all", s.minus(spans{{0, 50}}), nil},
		{"minus nothing", s.minus(nil), s},
		{"minus what touches", s.minus(spans{{10, 20}, {30, 40}}), s},
		{"minus two in one", spans{{0, 10}}.minus(spans{{1, 2}, {4, 5}}), spans{{0, 1}, {2, 4}, {5, 10}}},
		{"minus the ends", s.minus(spans{{0, 1}, {29, 41}}), spans{{1, 10}, {20, 29}, {41, 50}}},
		{"gaps", s.gaps(0, 60), spans{{10, 20}, {30, 40}, {50, 60}}},
		{"gaps inside", s.gaps(25, 45), spans{{30, 40}}},
		{"gaps of none", spans(nil).gaps(0, 7), spans{{0, 7}}},
		{"gaps of an empty range", spans(nil).gaps(0, 0), nil},
	} {
		if diff := cmp.Diff(c.want, c.got, cmp.AllowUnexported(span{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}
