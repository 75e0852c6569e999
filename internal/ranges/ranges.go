// Package ranges is a set of byte ranges: which parts of an image a source
// wrote, which a copy holds.
package ranges

// Range is the bytes [Start, End).
type Range struct{ Start, End int64 }

// Len is the range's length.
func (r Range) Len() int64 { return r.End - r.Start }

// Set is a sorted list of disjoint, non-adjacent ranges. The zero value is
// empty.
type Set []Range

// Add puts [start, end) in s, merging it with what it touches.
func (s *Set) Add(start, end int64) {
	if start >= end {
		return
	}
	if n := len(*s); n > 0 && (*s)[n-1].Start <= start && (*s)[n-1].End >= start {
		(*s)[n-1].End = max((*s)[n-1].End, end) // an in-order writer extends the last range
		return
	}
	out := make(Set, 0, len(*s)+1)
	placed := false
	for _, x := range *s {
		switch {
		case x.End < start:
			out = append(out, x)
		case x.Start > end:
			if !placed {
				out, placed = append(out, Range{start, end}), true
			}
			out = append(out, x)
		default:
			start, end = min(start, x.Start), max(end, x.End)
		}
	}
	if !placed {
		out = append(out, Range{start, end})
	}
	*s = out
}

// Remove takes [start, end) out of s.
func (s *Set) Remove(start, end int64) {
	if n := len(*s); start >= end || n == 0 || (*s)[n-1].End <= start || (*s)[0].Start >= end {
		return
	}
	out := make(Set, 0, len(*s)+1)
	for _, x := range *s {
		if x.End <= start || x.Start >= end {
			out = append(out, x)
			continue
		}
		if x.Start < start {
			out = append(out, Range{x.Start, start})
		}
		if x.End > end {
			out = append(out, Range{end, x.End})
		}
	}
	*s = out
}

// Len is how many bytes s holds.
func (s Set) Len() int64 {
	var n int64
	for _, x := range s {
		n += x.Len()
	}
	return n
}
