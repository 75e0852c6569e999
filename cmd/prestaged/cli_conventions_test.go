package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestResultsOnStdout: results go to stdout and diagnostics to stderr, as
// scripts expect: the version (verb and flag), validate's verdict.
func TestResultsOnStdout(t *testing.T) {
	spec := newSite(t).spec("", false, img{name: "vm", content: []byte("vm")})
	for _, args := range [][]string{{"version"}, {"--version"}, {"validate", spec}} {
		r := run(t, args...)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "prestaged ") && !strings.HasSuffix(r.stdout, ": valid\n") {
			t.Errorf("prestaged %s: want its result on stdout only, got %s", strings.Join(args, " "), r)
		}
	}
}

// TestCLIErrorsSayWhatToDo: an unknown flag points to --help; a missing
// spec says so with the system's reason and how to give one.
func TestCLIErrorsSayWhatToDo(t *testing.T) {
	if r := run(t, "apply", "--bogus"); r.code != 1 || !strings.Contains(r.stderr, "prestaged apply --help") {
		t.Errorf("unknown flag: want exit 1 and a pointer to --help, got %s", r)
	}
	absent := newSite(t).path("absent.hcl")
	for _, verb := range []string{"validate", "plan", "apply"} {
		r := run(t, verb, absent)
		if r.code != 1 || !strings.Contains(r.stderr, "no such file") || !strings.Contains(r.stderr, "SPEC") || strings.Contains(r.stderr, "not valid") {
			t.Errorf("%s of a missing spec: want exit 1, no such file and how to give SPEC, got %s", verb, r)
		}
	}
}

// TestWaitTimesOut: an apply whose --wait ends with the lock still held
// says how long it waited.
func TestWaitTimesOut(t *testing.T) {
	s, _, spec := publishedSite(t, "demo", 4<<10, 10, true)
	holdLock(t, s.path("store"))
	if r := run(t, "apply", "--wait", "1s", spec); r.code != 1 || !strings.Contains(r.stderr, "waited 1s") {
		t.Errorf("want exit 1 and how long it waited, got %s", r)
	}
}

// TestVerifySummary: verify ends on its own summary, not apply's.
func TestVerifySummary(t *testing.T) {
	_, _, spec := publishedSite(t, "demo", 4<<10, 11, true)
	mustApply(t, spec, 2)
	r := run(t, "verify", spec)
	if r.code != 0 || !strings.Contains(r.stdout, "Verify: 1 checked, 0 damaged") || strings.Contains(r.stdout, "Apply:") {
		t.Errorf("want verify's own summary, got %s", r)
	}
}

// TestMissingInstallDir: plan says which install directory apply would
// create; validate accepts the spec, validate --strict refuses it.
func TestMissingInstallDir(t *testing.T) {
	s, _, spec := publishedSite(t, "demo", 4<<10, 12, true)
	editSpec(t, spec, func(b string) string { return strings.Replace(b, `"images/`, `"newdir/`, 1) })
	if r := run(t, "plan", spec); r.code != 0 || !strings.Contains(r.stdout, "will create directory "+s.path("newdir")) {
		t.Errorf("plan: want the directory it would create, got %s", r)
	}
	if r := run(t, "validate", spec); r.code != 0 {
		t.Errorf("validate without --strict: %s", r)
	}
	if r := run(t, "validate", "--strict", spec); r.code != 1 || !strings.Contains(r.stderr, s.path("newdir")) {
		t.Errorf("validate --strict: want exit 1 naming the directory, got %s", r)
	}
}

// holdLock takes the store's lock in this process, as a running apply
// would, until the test ends.
func holdLock(t *testing.T, storeDir string) {
	t.Helper()
	testutil.Must(t, os.MkdirAll(storeDir, 0o755))
	f, err := os.OpenFile(filepath.Join(storeDir, "lock"), os.O_RDONLY|os.O_CREATE, 0o600)
	testutil.Must(t, err)
	t.Cleanup(func() { f.Close() })
	testutil.Must(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
}
