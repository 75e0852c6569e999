package demo

import (
	"fmt"
	"io"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/spec"
)

// newTicker returns the live progress of a demo strategy: one line
// redrawn in place on a terminal, a line every few seconds elsewhere.
func newTicker(w io.Writer, o Options, d digest.Digest) func(string, []*host) {
	live := o.Live
	var last time.Time
	var start time.Time
	cur, finished := "", false
	return func(strategy string, hosts []*host) {
		if strategy != cur {
			cur, start, finished = strategy, time.Now(), false
		}
		if finished {
			return
		}
		done, landed := 0, int64(0)
		for _, h := range hosts {
			if h.done.Load() {
				done++
			}
			if hv, err := h.st.Have(d); err == nil {
				landed += hv.Bytes
			}
		}
		line := fmt.Sprintf("%-32s %5.1f s  %2d/%d hosts done  %s of %s landed",
			Strategies[strategy], time.Since(start).Seconds(), done, len(hosts),
			spec.FormatBytes(landed), spec.FormatBytes(o.Size*int64(len(hosts))))
		finished = done == len(hosts)
		switch {
		case live:
			fmt.Fprintf(w, "\r%s\x1b[K", line)
			if done == len(hosts) {
				fmt.Fprintln(w)
			}
		case done == len(hosts) || time.Since(last) > 5*time.Second:
			fmt.Fprintln(w, line)
			last = time.Now()
		}
	}
}
