package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// GoBuild builds the Go package pkg into the binary out, static
// (CGO_ENABLED=0) as `make packages` builds it, with extra flags for go
// build.
func GoBuild(out, pkg string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// PrestagedPkg is the import path of the prestaged command.
const PrestagedPkg = "github.com/prestaged/prestaged/cmd/prestaged"

// OpenSSL runs openssl with args in dir and returns its output, trimmed.
func OpenSSL(dir string, args ...string) (string, error) {
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("openssl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
