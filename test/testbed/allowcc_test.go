package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

const ccChildEnv = "PST_TESTBED_ALLOWCC_CHILD"

// TestAllowCCChild is the helper process of TestAllowedCongestionControl:
// it widens the allowed list, says so and waits to be signalled.
func TestAllowCCChild(t *testing.T) {
	if os.Getenv(ccChildEnv) == "" {
		return // run only as the child
	}
	if _, err := allowCongestionControl("cubic"); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("widened\n")
	time.Sleep(time.Minute)
	t.Fatal("never signalled")
}

// TestAllowedCongestionControl narrows the allowed list to one without
// cubic, as a fresh machine may have it, and checks that a run widens it and
// puts back the exact list: at the end, after SIGTERM, and, after SIGKILL,
// at the next run's start.
func TestAllowedCongestionControl(t *testing.T) {
	testutil.NeedRoot(t)
	if !congestionControlAvailable("cubic") {
		testutil.Unavailable(t, "TCP cubic is not available in this kernel")
	}
	unlock, err := lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	orig, err := readSysctlFile(allowedCCFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(allowedCCFile, []byte(orig), 0o644) })
	narrow := slices.DeleteFunc(strings.Fields(availableCongestionControl()), func(s string) bool { return s != "reno" && s != "bbr" })
	setAllowed(t, strings.Join(narrow, " "))
	want, _ := readSysctlFile(allowedCCFile)

	restore, err := allowCongestionControl("cubic")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := readSysctlFile(allowedCCFile); !slices.Contains(strings.Fields(got), "cubic") {
		t.Fatalf("allowed %q after widening, want cubic in it", got)
	}
	restore()
	checkAllowed(t, "after restore", want)

	t.Run("SIGTERM", func(t *testing.T) {
		child := startCCChild(t)
		_ = child.Process.Signal(syscall.SIGTERM)
		_ = child.Wait()
		checkAllowed(t, "after SIGTERM", want)
	})
	t.Run("SIGKILL then the next run", func(t *testing.T) {
		child := startCCChild(t)
		_ = child.Process.Kill()
		_ = child.Wait()
		if got, _ := readSysctlFile(allowedCCFile); got == want {
			t.Fatalf("a killed run restored the list (%q): the test proves nothing", got)
		}
		if err := repairAllowedCC(); err != nil {
			t.Fatal(err)
		}
		checkAllowed(t, "after repair", want)
	})
}

func startCCChild(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestAllowCCChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), ccChildEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "widened\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child said %q, want widened", line)
	}
	return cmd
}

func setAllowed(t *testing.T, v string) {
	t.Helper()
	if err := os.WriteFile(allowedCCFile, []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkAllowed(t *testing.T, when, want string) {
	t.Helper()
	if got, _ := readSysctlFile(allowedCCFile); got != want {
		t.Errorf("allowed %q %s, want %q", got, when, want)
	}
	if _, err := os.Stat(savedCCFile); !os.IsNotExist(err) {
		t.Errorf("%s still there %s (%v)", savedCCFile, when, err)
	}
}
