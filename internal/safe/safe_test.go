package safe

import (
	"errors"
	"strings"
	"testing"
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
