package report

import (
	"bytes"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/engine"
)

// lineChan is a Writer that hands each line to a channel, dropping lines
// while the channel is full.
type lineChan chan string

func (c lineChan) Write(p []byte) (int, error) {
	select {
	case c <- string(p):
	default:
	}
	return len(p), nil
}

var stamp = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ `)

// lines returns the lines of out without their leading time stamps, and
// fails when a line has none.
func lines(t *testing.T, out string) []string {
	t.Helper()
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range got {
		if !stamp.MatchString(l) {
			t.Errorf("line %q does not start with a UTC RFC 3339 time", l)
		}
		got[i] = stamp.ReplaceAllString(l, "")
	}
	return got
}

// TestLogLines checks apply's greppable lines byte for byte (after the
// time): the shape the README shows and scripts grep.
func TestLogLines(t *testing.T) {
	var out bytes.Buffer
	l := newLogLines(&out, time.Hour)
	l.Begin("demo", 3000000, 0, func() int64 { return 0 })
	l.Event("demo", "source mirror.local: starting at byte 0")
	l.End(engine.Outcome{Image: "demo", Status: engine.StatusFetched, Seconds: 0.04,
		Bytes: map[string]int64{"mirror.local": 3000000, "peer a": 7}})
	l.End(engine.Outcome{Image: "kept", Status: engine.StatusAdopted, Seconds: 1})
	l.End(engine.Outcome{Image: "vm", Status: engine.StatusFailed, Seconds: 12.345, Err: errors.New(`mirror "m": 404`)})
	want := []string{
		"image=demo event=start size=3000000 resumed=0",
		`image=demo event=info msg="source mirror.local: starting at byte 0"`,
		"image=demo event=end status=fetched seconds=0.0 bytes.mirror.local=3000000 bytes.peer_a=7",
		"image=kept event=end status=adopted seconds=1.0",
		`image=vm event=end status=failed seconds=12.3 error="mirror \"m\": 404"`,
	}
	if diff := cmp.Diff(want, lines(t, out.String())); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}

// TestLogLinesProgress checks the periodic progress line of a transfer.
func TestLogLinesProgress(t *testing.T) {
	out := make(lineChan, 16)
	l := newLogLines(out, time.Millisecond)
	l.Begin("big", 4096, 0, func() int64 { return 1024 })
	defer l.End(engine.Outcome{Image: "big", Status: engine.StatusFetched})
	progress := regexp.MustCompile(`^image=big event=progress bytes=1024 size=4096 rate=\d+(\.\d)? [KMGTPE]?i?B/s eta=\S+$`)
	for line := range out {
		if got := lines(t, line)[0]; strings.Contains(got, "event=progress") {
			if !progress.MatchString(got) {
				t.Errorf("progress line %q, want the shape %s", got, progress)
			}
			return
		}
	}
}

// TestLineHandler checks what apply's lines do not use but a slog.Handler
// must get right: attributes and groups from With, levels, keyless attributes.
func TestLineHandler(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(NewLineHandler(&out)).With("run", 7).WithGroup("g")
	log.Warn("disk low", "free", "1.0 GiB", slog.String("", "dropped"), slog.Group("", slog.Int("inline", 1)))
	log.Debug("not shown")
	want := []string{`level=WARN run=7 g.free=1.0 GiB g.inline=1 msg="disk low"`}
	if diff := cmp.Diff(want, lines(t, out.String())); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
