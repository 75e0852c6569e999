package testutil

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// dirs are the directories TempDir made, removed by Main.
var dirs struct {
	sync.Mutex
	paths []string
}

// TempDir makes a directory that lasts as long as the test binary, for what
// its tests share (a built binary, a PKI); Main removes it.
func TempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	dirs.Lock()
	defer dirs.Unlock()
	dirs.paths = append(dirs.paths, dir)
	return dir, nil
}

// Main is a package's TestMain: it runs setup (if any, and the tests only
// when it succeeds), removes every TempDir and exits with the tests' code.
func Main(m *testing.M, setup ...func() error) {
	code := 1
	if err := runSetup(setup); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	dirs.Lock()
	for _, d := range dirs.paths {
		os.RemoveAll(d)
	}
	dirs.Unlock()
	os.Exit(code)
}

func runSetup(setup []func() error) error {
	for _, s := range setup {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// Shared is a value the tests of a package make once, the first time one
// needs it, in its own TempDir.
type Shared[T any] struct {
	What    string // what Make makes, for the failure message
	Pattern string // the TempDir pattern
	Make    func(dir string) (T, error)

	once sync.Once
	v    T
	err  error
}

// Get returns the value, making it if no test has yet; it fails the test
// when making it failed.
func (s *Shared[T]) Get(t testing.TB) T {
	t.Helper()
	s.once.Do(func() {
		var dir string
		if dir, s.err = TempDir(s.Pattern); s.err == nil {
			s.v, s.err = s.Make(dir)
		}
	})
	if s.err != nil {
		t.Fatalf("%s: %v", s.What, s.err)
	}
	return s.v
}
