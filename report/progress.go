// Package report renders what apply does: live bars on a terminal,
// greppable key=value lines elsewhere, and the metrics file for
// node_exporter's textfile collector.
package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/internal/safe"
	"github.com/prestaged/prestaged/spec"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Reporter is an engine.Reporter that can be closed when the run ends.
type Reporter interface {
	engine.Reporter
	Close()
}

// New draws live bars when live (w is a terminal and the user wants them),
// and writes plain, greppable log lines ("image=NAME key=value ...")
// otherwise.
func New(w io.Writer, live bool) Reporter {
	if live {
		return newBars(w)
	}
	return newLogLines(w, 10*time.Second)
}

// logLines writes one line per event and, for long transfers, a progress
// line per image every interval.
type logLines struct {
	w    io.Writer
	mu   sync.Mutex
	done map[string]chan struct{}
	ivl  time.Duration
}

func newLogLines(w io.Writer, ivl time.Duration) *logLines {
	return &logLines{w: w, ivl: ivl, done: map[string]chan struct{}{}}
}

func (l *logLines) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, time.Now().UTC().Format(time.RFC3339)+" "+format+"\n", a...)
}

func (l *logLines) Begin(image string, size, resumed int64, progress func() int64) {
	l.printf("image=%s event=start size=%d resumed=%d", image, size, resumed)
	stop := make(chan struct{})
	l.mu.Lock()
	l.done[image] = stop
	l.mu.Unlock()
	safe.Go(func() {
		t := time.NewTicker(l.ivl)
		defer t.Stop()
		start, from := time.Now(), progress()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				n := progress()
				rate := float64(n-from) / time.Since(start).Seconds()
				l.printf("image=%s event=progress bytes=%d size=%d rate=%s/s eta=%s", image, n, size,
					spec.FormatBytes(int64(rate)), eta(size-n, rate))
			}
		}
	})
}

func eta(left int64, rate float64) string {
	if rate <= 0 {
		return "unknown"
	}
	return (time.Duration(float64(left)/rate) * time.Second / time.Second).Round(time.Second).String()
}

func (l *logLines) Event(image, msg string) { l.printf("image=%s event=info msg=%q", image, msg) }

func (l *logLines) End(o engine.Outcome) {
	l.mu.Lock()
	if c, ok := l.done[o.Image]; ok {
		close(c)
		delete(l.done, o.Image)
	}
	l.mu.Unlock()
	if o.Err != nil {
		l.printf("image=%s event=end status=failed seconds=%.1f error=%q", o.Image, o.Seconds, o.Error)
		return
	}
	l.printf("image=%s event=end status=%s seconds=%.1f%s", o.Image, o.Status, o.Seconds, bytesBySource(o.Bytes))
}

// bytesBySource renders " bytes.SOURCE=N" pairs in a stable order.
func bytesBySource(m map[string]int64) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, " bytes.%s=%d", strings.ReplaceAll(k, " ", "_"), m[k])
	}
	return b.String()
}

func (l *logLines) Close() {}

// bars draws one mpb bar per image: bytes, rate and ETA.
type bars struct {
	p   *mpb.Progress
	mu  sync.Mutex
	log *logLines
	act map[string]chan struct{}
}

func newBars(w io.Writer) *bars {
	p := mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond))
	return &bars{p: p, log: newLogLines(p, time.Hour), act: map[string]chan struct{}{}}
}

func (b *bars) Begin(image string, size, resumed int64, progress func() int64) {
	bar := b.p.AddBar(size,
		mpb.PrependDecorators(decor.Name(image, decor.WCSyncSpaceR), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
		mpb.AppendDecorators(decor.EwmaSpeed(decor.SizeB1024(0), "% .1f", 30), decor.Name(" ETA "), decor.EwmaETA(decor.ET_STYLE_GO, 30)))
	bar.SetCurrent(resumed)
	stop := make(chan struct{})
	b.mu.Lock()
	b.act[image] = stop
	b.mu.Unlock()
	safe.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				bar.SetCurrent(progress())
				bar.Abort(false)
				return
			case now := <-t.C:
				bar.EwmaSetCurrent(progress(), now.Sub(last))
				last = now
			}
		}
	})
}

func (b *bars) Event(image, msg string) { b.log.Event(image, msg) }

func (b *bars) End(o engine.Outcome) {
	b.mu.Lock()
	if c, ok := b.act[o.Image]; ok {
		close(c)
		delete(b.act, o.Image)
	}
	b.mu.Unlock()
	b.log.End(o)
}

func (b *bars) Close() { b.p.Wait() }
