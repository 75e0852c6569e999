package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestErrorContains(t *testing.T) {
	err := errors.New(`congestion control "no-such-cc" not allowed: cubic`)
	tests := []struct {
		name  string
		err   error
		parts []string
		want  bool
	}{
		{"nil", nil, nil, false},
		{"no parts", err, nil, true},
		{"every part", err, []string{`"no-such-cc"`, "cubic"}, true},
		{"a part missing", err, []string{"cubic", "bbr"}, false},
	}
	for _, tt := range tests {
		if got := ErrorContains(tt.err, tt.parts...); got != tt.want {
			t.Errorf("%s: ErrorContains = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestShared: the value is made once, in a directory of its own that lasts
// past the test that made it.
func TestShared(t *testing.T) {
	made := 0
	s := Shared[string]{What: "test value", Pattern: "testutil-shared-", Make: func(dir string) (string, error) {
		made++
		p := filepath.Join(dir, "v")
		return p, os.WriteFile(p, []byte("v"), 0o644)
	}}
	var first string
	t.Run("first", func(t *testing.T) { first = s.Get(t) })
	if second := s.Get(t); second != first || made != 1 {
		t.Errorf("Get = %q then %q, made %d times; want one value made once", first, second, made)
	}
	if _, err := os.Stat(first); err != nil {
		t.Errorf("the value's directory is gone: %v", err)
	}
}
