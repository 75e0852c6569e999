package engine

import "github.com/prestaged/prestaged/fetchers"

// countingDst reports every write's offset and length to count, keeping a
// RandomDst random.
func countingDst(d fetchers.Dst, count func(off int64, n int)) fetchers.Dst {
	c := countDst{Dst: d, count: count}
	if r, ok := d.(fetchers.RandomDst); ok {
		return countRandomDst{countDst: c, r: r}
	}
	return c
}

type countDst struct {
	fetchers.Dst
	count func(off int64, n int)
}

// Write appends at the destination's offset, which is read first: one
// source writes at a time.
func (c countDst) Write(p []byte) (int, error) {
	off := c.Dst.Offset()
	n, err := c.Dst.Write(p)
	c.count(off, n)
	return n, err
}

type countRandomDst struct {
	countDst
	r fetchers.RandomDst
}

func (c countRandomDst) WriteAt(p []byte, off int64) (int, error) {
	n, err := c.r.WriteAt(p, off)
	c.count(off, n)
	return n, err
}

func (c countRandomDst) ReadAt(p []byte, off int64) (int, error) { return c.r.ReadAt(p, off) }
