// Package testutil holds helpers shared by prestaged's tests. Product code
// never imports it.
package testutil

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// InCI reports whether the tests run under CI=true, where nothing may skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Need returns the path of an external program a test depends on. When it is
// missing the test skips with the reason, except under CI=true, where it
// fails: `make check` installs every program the tests need.
func Need(t testing.TB, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Unavailable(t, program+" is not installed (make check installs it)")
	}
	return p
}

// NeedRoot skips (or fails under CI) a test that needs root, such as one
// creating network namespaces.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root")
	}
}

// Unavailable skips with reason outside CI and fails under CI=true.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a test prerequisite is missing: %s", reason)
	}
	t.Skipf("skipped: %s", reason)
}

// NeedAll is Need for each of programs; it returns their paths in order.
func NeedAll(t testing.TB, programs ...string) []string {
	t.Helper()
	paths := make([]string, len(programs))
	for i, p := range programs {
		paths[i] = Need(t, p)
	}
	return paths
}

// ErrorContains reports whether err is an error whose message holds every
// one of parts: how a test checks that a message names what went wrong.
func ErrorContains(err error, parts ...string) bool {
	if err == nil {
		return false
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			return false
		}
	}
	return true
}
