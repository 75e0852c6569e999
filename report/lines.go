package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lineHandler is the slog.Handler of apply's log: one greppable line per
// record, `TIME key=value ... msg="..."`, the shape scripts and the README
// read. The time is UTC RFC 3339; string values are written as they are
// (names, statuses, sizes), errors and the message quoted as Go strings,
// groups as dotted keys (bytes.mirror.local=N), and a level other than INFO
// as level=WARN after the time.
type lineHandler struct {
	mu    *sync.Mutex // one per output, shared by the handlers With derives
	w     io.Writer
	attrs string // what WithAttrs added, rendered
	group string // the open groups as a key prefix: "" or "a.b."
}

// NewLineHandler is a slog.Handler that writes apply's log lines to w.
func NewLineHandler(w io.Writer) slog.Handler {
	return &lineHandler{mu: new(sync.Mutex), w: w}
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if !r.Time.IsZero() {
		b.WriteString(r.Time.UTC().Format(time.RFC3339))
	}
	if r.Level != slog.LevelInfo {
		fmt.Fprintf(&b, " level=%s", r.Level)
	}
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.group, a)
		return true
	})
	if r.Message != "" {
		b.WriteString(" msg=" + strconv.Quote(r.Message))
	}
	line := strings.TrimPrefix(b.String(), " ") + "\n"
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line)
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	for _, a := range as {
		writeAttr(&b, h.group, a)
	}
	c := *h
	c.attrs += b.String()
	return &c
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group += name + "."
	return &c
}

// writeAttr writes " KEY=VALUE", or one such pair per member of a group.
func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, m := range v.Group() {
			writeAttr(b, prefix, m)
		}
		return
	}
	if a.Key == "" {
		return // slog's rule: an attribute without a key is dropped
	}
	s := v.String()
	switch {
	case v.Kind() == slog.KindTime:
		s = v.Time().UTC().Format(time.RFC3339)
	case v.Kind() == slog.KindAny:
		if err, ok := v.Any().(error); ok {
			s = strconv.Quote(err.Error())
		}
	}
	b.WriteString(" " + prefix + a.Key + "=" + s)
}
