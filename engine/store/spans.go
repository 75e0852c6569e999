package store

import "sync"

// spans is a set of disjoint [start, end) byte ranges that landed beyond a
// staging file's complete prefix. A swarm lands pieces of a few MiB, so the
// set stays small and a sorted slice beats a tree.
type spans []span

type span struct{ start, end int64 }

func (s *spans) add(start, end int64) {
	out := make(spans, 0, len(*s)+1)
	for _, x := range *s {
		if x.end < start || x.start > end {
			out = append(out, x)
			continue
		}
		start, end = min(start, x.start), max(end, x.end)
	}
	i := 0
	for i < len(out) && out[i].start < start {
		i++
	}
	out = append(out, span{})
	copy(out[i+1:], out[i:])
	out[i] = span{start, end}
	*s = out
}

// takeFrom removes and returns the end of the span starting at or before off
// and reaching past it.
func (s *spans) takeFrom(off int64) (int64, bool) {
	for i, x := range *s {
		if x.start <= off && x.end > off {
			*s = append((*s)[:i], (*s)[i+1:]...)
			return x.end, true
		}
	}
	return 0, false
}

// trimBelow drops what lies below off: an in-order write covered it.
func (s *spans) trimBelow(off int64) {
	out := (*s)[:0]
	for _, x := range *s {
		if x.end > off {
			x.start = max(x.start, off)
			out = append(out, x)
		}
	}
	*s = out
}

// overlap is the part of s within [start, end).
func (s spans) overlap(start, end int64) spans {
	var out spans
	for _, x := range s {
		if lo, hi := max(x.start, start), min(x.end, end); lo < hi {
			out = append(out, span{lo, hi})
		}
	}
	return out
}

// minus is s without the bytes of t, both sorted and disjoint: one pass
// over each. A 10 GiB image has 2560 pieces, and half of them may be
// spans of their own.
func (s spans) minus(t spans) spans {
	var out spans
	j := 0
	for _, x := range s {
		for j < len(t) && t[j].end <= x.start {
			j++ // t[j] lies before x, so before every later span of s
		}
		start := x.start
		for k := j; k < len(t) && t[k].start < x.end; k++ {
			if t[k].start > start {
				out = append(out, span{start, t[k].start})
			}
			start = max(start, t[k].end)
		}
		if start < x.end {
			out = append(out, span{start, x.end})
		}
	}
	return out
}

// gaps is what s leaves of [start, end).
func (s spans) gaps(start, end int64) spans {
	return spans{{start, end}}.minus(s)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

func getBuf() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuf(b *[]byte) { bufPool.Put(b) }
