package safe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRecover(t *testing.T) {
	f := func() (err error) {
		defer Recover(&err)
		var m map[string]int
		m["x"] = 1 // a nil map: panics
		return nil
	}
	err := f()
	var pe *PanicError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "nil map") || !strings.Contains(string(pe.Stack), "safe_test.go") {
		t.Fatalf("Recover gave %v", err)
	}
}

func TestGo(t *testing.T) {
	got := make(chan *PanicError, 1)
	old := Exit
	Exit = func(e *PanicError) { got <- e }
	defer func() { Exit = old }()
	Go(func() { panic("forced") })
	if e := <-got; e.Value != "forced" {
		t.Fatalf("Exit got %v", e)
	}
}

func TestTickStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	ticks := make(chan time.Time, 100)
	Tick(ctx, time.Millisecond, func(now time.Time) { ticks <- now })
	<-ticks
	<-ticks
	cancel()
	time.Sleep(20 * time.Millisecond) // a tick under way may still land
	n := len(ticks)
	time.Sleep(20 * time.Millisecond)
	if len(ticks) != n {
		t.Errorf("ticks went on after the context ended")
	}
}
