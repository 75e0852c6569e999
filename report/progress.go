// Package report renders what apply does: live bars on a terminal,
// greppable key=value lines elsewhere (log/slog with NewLineHandler), and
// the metrics file for node_exporter's textfile collector.
package report

import (
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
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
// line per image every interval, through slog with NewLineHandler.
type logLines struct {
	log  *slog.Logger
	ivl  time.Duration
	runs running
}

func newLogLines(w io.Writer, ivl time.Duration) *logLines {
	return &logLines{log: slog.New(NewLineHandler(w)), ivl: ivl}
}

func (l *logLines) Begin(image string, size, resumed int64, progress func() int64) {
	l.log.Info("", "image", image, "event", "start", "size", size, "resumed", resumed)
	stop := l.runs.start(image)
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
				l.log.Info("", "image", image, "event", "progress", "bytes", n, "size", size,
					"rate", spec.FormatBytes(int64(rate))+"/s", "eta", eta(size-n, rate))
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

func (l *logLines) Event(image, msg string) { l.log.Info(msg, "image", image, "event", "info") }

func (l *logLines) End(o engine.Outcome) {
	l.runs.stop(o.Image)
	seconds := strconv.FormatFloat(o.Seconds, 'f', 1, 64)
	if o.Err != nil {
		l.log.Info("", "image", o.Image, "event", "end", "status", "failed", "seconds", seconds, "error", o.Err)
		return
	}
	l.log.Info("", "image", o.Image, "event", "end", "status", string(o.Status), "seconds", seconds, bytesBySource(o.Bytes))
}

// bytesBySource is the group of bytes.SOURCE=N pairs, in a stable order.
func bytesBySource(m map[string]int64) slog.Attr {
	var pairs []any
	for _, k := range slices.Sorted(maps.Keys(m)) {
		pairs = append(pairs, slog.Int64(strings.ReplaceAll(k, " ", "_"), m[k]))
	}
	return slog.Group("bytes", pairs...)
}

func (l *logLines) Close() {}

// running holds the stop channel of each image between Begin and End.
type running struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func (r *running) start(image string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]chan struct{}{}
	}
	stop := make(chan struct{})
	r.m[image] = stop
	return stop
}

func (r *running) stop(image string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.m[image]; ok {
		close(c)
		delete(r.m, image)
	}
}

// bars draws one mpb bar per image: bytes, rate and ETA.
type bars struct {
	p    *mpb.Progress
	log  *logLines
	runs running
}

func newBars(w io.Writer) *bars {
	p := mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond))
	return &bars{p: p, log: newLogLines(p, time.Hour)}
}

func (b *bars) Begin(image string, size, resumed int64, progress func() int64) {
	bar := b.p.AddBar(size,
		mpb.PrependDecorators(decor.Name(image, decor.WCSyncSpaceR), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
		mpb.AppendDecorators(decor.EwmaSpeed(decor.SizeB1024(0), "% .1f", 30), decor.Name(" ETA "), decor.EwmaETA(decor.ET_STYLE_GO, 30)))
	bar.SetCurrent(resumed)
	stop := b.runs.start(image)
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
	b.runs.stop(o.Image)
	b.log.End(o)
}

func (b *bars) Close() { b.p.Wait() }
