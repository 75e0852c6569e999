package engine

import "github.com/prestaged/prestaged/fetchers"

// countDst reports every write's offset and length to count.
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

func (c countDst) WriteAt(p []byte, off int64) (int, error) {
	n, err := c.Dst.WriteAt(p, off)
	c.count(off, n)
	return n, err
}
