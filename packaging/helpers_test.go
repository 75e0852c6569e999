package packaging

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// describe is a `git describe` string that exercises the version
// sanitising, and version what the packages must carry for it.
const (
	describe = "v1.2.3-rc1-4-gabc1234-dirty"
	version  = "1.2.3~rc1+4.gabc1234.dirty"
)

// built are the artifacts every test shares, made once per `go test`.
type built struct {
	binary string // static prestaged, built like `make packages` does
	deb    string
	rpm    string
}

func TestMain(m *testing.M) { testutil.Main(m) }

// artifacts are made once per `go test`, the first time a test needs them,
// exactly as the Makefile's `packages` target does.
var artifacts = testutil.Shared[built]{What: "building the binary and packages", Pattern: "prestaged-packaging-",
	Make: func(dir string) (built, error) {
		if b, ok := parentArtifacts(); ok {
			return b, nil
		}
		return buildAll(dir)
	}}

func buildAll(dir string) (built, error) {
	b := built{
		binary: filepath.Join(dir, "bin", "prestaged"),
		deb:    filepath.Join(dir, "dist", "prestaged_"+version+"_amd64.deb"),
		rpm:    filepath.Join(dir, "dist", "prestaged-"+version+"-1.x86_64.rpm"),
	}
	if err := testutil.GoBuild(b.binary, testutil.PrestagedPkg, "-trimpath", "-ldflags", "-s -w -X main.version="+describe); err != nil {
		return b, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pkg := exec.CommandContext(ctx, "go", "run", "./packaging/build",
		"-version", describe, "-binary", b.binary, "-out", filepath.Join(dir, "dist"))
	pkg.Dir = ".."
	if out, err := pkg.CombinedOutput(); err != nil {
		return b, fmt.Errorf("%s: %w\n%s", strings.Join(pkg.Args, " "), err, out)
	}
	return b, nil
}

// run runs a program and returns its stdout; it fails the test when the
// program exits non-zero.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runErr is run for a caller that expects failures.
func runErr(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\nstdout:\n%s\nstderr:\n%s",
			name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// exitCode runs a program and returns its exit status and combined output.
func exitCode(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	if err == nil {
		return 0, string(out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	return -1, ""
}

// extract unpacks the .deb into a directory laid out like a host, so tools
// with --root see the packaged paths.
func extract(t *testing.T, deb string) string {
	t.Helper()
	testutil.Need(t, "dpkg-deb")
	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)
	return root
}

// runCombined runs a program and returns stdout and stderr together.
func runCombined(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
