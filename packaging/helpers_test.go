package packaging

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

var (
	buildOnce sync.Once
	artifacts built
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// build compiles the binary and the packages the first time a test needs
// them, exactly as the Makefile's `packages` target does.
func build(t *testing.T) built {
	t.Helper()
	buildOnce.Do(func() {
		if b, ok := parentArtifacts(); ok {
			artifacts = b
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "prestaged-packaging-")
		if buildErr != nil {
			return
		}
		artifacts, buildErr = buildAll(buildDir)
	})
	if buildErr != nil {
		t.Fatalf("building the binary and packages: %v", buildErr)
	}
	return artifacts
}

func buildAll(dir string) (built, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b := built{
		binary: filepath.Join(dir, "bin", "prestaged"),
		deb:    filepath.Join(dir, "dist", "prestaged_"+version+"_amd64.deb"),
		rpm:    filepath.Join(dir, "dist", "prestaged-"+version+"-1.x86_64.rpm"),
	}
	gobuild := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+describe, "-o", b.binary, "./cmd/prestaged")
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0")
	pkg := exec.CommandContext(ctx, "go", "run", "./packaging/build",
		"-version", describe, "-binary", b.binary, "-out", filepath.Join(dir, "dist"))
	for _, c := range []*exec.Cmd{gobuild, pkg} {
		c.Dir = ".."
		if out, err := c.CombinedOutput(); err != nil {
			return b, fmt.Errorf("%s: %w\n%s", strings.Join(c.Args, " "), err, out)
		}
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
