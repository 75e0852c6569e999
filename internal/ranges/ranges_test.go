package ranges

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAddRemove(t *testing.T) {
	var s Set
	s.Add(10, 20)
	s.Add(30, 40)
	s.Add(20, 25) // touches: merged
	s.Add(0, 5)
	s.Add(5, 5) // empty: ignored
	if want := (Set{{0, 5}, {10, 25}, {30, 40}}); !cmp.Equal(s, want) {
		t.Fatalf("after Add: %v, want %v", s, want)
	}
	s.Remove(3, 12)
	s.Remove(35, 100)
	if want := (Set{{0, 3}, {12, 25}, {30, 35}}); !cmp.Equal(s, want) {
		t.Fatalf("after Remove: %v, want %v", s, want)
	}
	if s.Len() != 3+13+5 {
		t.Fatalf("Len = %d", s.Len())
	}
}

// A Set agrees with a bitmap under random adds and removes.
func TestAgainstBitmap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s Set
	var bits [200]bool
	for range 2000 {
		a, b := r.Int64N(200), r.Int64N(200)
		a, b = min(a, b), max(a, b)
		add := r.IntN(2) == 0
		if add {
			s.Add(a, b)
		} else {
			s.Remove(a, b)
		}
		for i := a; i < b; i++ {
			bits[i] = add
		}
		var want Set
		for i := int64(0); i < 200; i++ {
			if bits[i] {
				want.Add(i, i+1)
			}
		}
		if !cmp.Equal(s, want, cmp.Comparer(func(x, y Set) bool { return len(x) == len(y) && (len(x) == 0 || cmp.Equal([]Range(x), []Range(y))) })) {
			t.Fatalf("set %v, bitmap %v", s, want)
		}
	}
}
