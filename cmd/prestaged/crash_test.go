package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// #28 case 8: no crash reads as success. A panic in an image worker, or in
// a goroutine it starts, exits 1 (not the runtime's 2, which
// --detailed-exitcodes would report as "changes applied"). The binary is
// built with the prestaged_panictest tag, which makes mirrors panic when
// PRESTAGED_PANIC says so.
func TestPanicExitsOne(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "prestaged-panictest")
	if err := testutil.GoBuild(bin, testutil.PrestagedPkg, "-tags", "prestaged_panictest"); err != nil {
		t.Fatalf("building with -tags prestaged_panictest: %v", err)
	}
	s, _, spec := publishedSite(t, "vm", 64<<10, 91, false)
	for _, mode := range []string{"worker", "goroutine"} {
		for _, args := range [][]string{{"apply"}, {"apply", "--detailed-exitcodes"}} {
			t.Run(mode+" "+strings.Join(args, " "), func(t *testing.T) {
				cmd := exec.Command(bin, append(args, "--no-progress", spec)...)
				cmd.Env = append(os.Environ(), "PRESTAGED_PANIC="+mode)
				out, err := cmd.CombinedOutput()
				if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "forced panic") {
					t.Errorf("exit %d (%v), want 1 and the panic on stderr:\n%s", code, err, out)
				}
			})
		}
	}
	if s.installed("vm") != nil {
		t.Error("a crashed apply installed the image")
	}
	mustApply(t, spec, 2) // the store is fine for the next run
}

// A spec nested 300,000 deep, or with 300,000 operators in a row, is
// refused with a diagnostic, exit 1, at once and without exhausting memory
// (either overflowed the stack after seconds and a GB, exit 2).
func TestDeepSpecRefused(t *testing.T) {
	for _, tc := range []struct{ expr, summary string }{
		{strings.Repeat("[", 300_000) + strings.Repeat("]", 300_000), "Spec nested too deeply"},
		{strings.Repeat("!", 300_000) + "true", "Expression too complex"},
	} {
		t.Run(tc.summary, func(t *testing.T) { deepSpecRefused(t, tc.expr, tc.summary) })
	}
}

func deepSpecRefused(t *testing.T, expr, summary string) {
	s := newSite(t)
	spec := s.path("spec.hcl")
	src := "store = \"" + s.path("store") + "\"\nx = " + expr + "\n"
	if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"validate"}, {"apply", "--detailed-exitcodes"}, {"plan", "--detailed-exitcodes"}} {
		start := time.Now()
		cmd := exec.Command(prestaged, append(args, spec)...)
		out, _ := cmd.CombinedOutput()
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), summary) || !strings.Contains(string(out), "spec.hcl line 2") {
			t.Errorf("%v: exit %d, want 1 and a diagnostic at spec.hcl line 2:\n%.2000s", args, code, out)
		}
		if d := time.Since(start); d > 10*time.Second || rss > 512<<10 {
			t.Errorf("%v took %s and %d MiB: the spec was not refused before parsing", args, d, rss>>10)
		}
	}
}
