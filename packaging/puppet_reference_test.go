package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/internal/testutil"
)

// TestPuppetReference regenerates the module's REFERENCE.md with `puppet
// strings` (Debian's puppet-strings) in a copy of the module, so the
// committed one always documents the parameters and types as they are.
func TestPuppetReference(t *testing.T) {
	puppet := testutil.Need(t, "puppet")
	if err := exec.Command(puppet, "strings", "--help").Run(); err != nil {
		testutil.Unavailable(t, "puppet strings is not installed (puppet-strings; make check installs it)")
	}
	module := "../examples/puppet/prestaged"
	copyDir := filepath.Join(t.TempDir(), "prestaged")
	if err := os.CopyFS(copyDir, os.DirFS(module)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(copyDir, "REFERENCE.md")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	cmd := exec.Command(puppet, "strings", "generate", "--format", "markdown")
	cmd.Dir = copyDir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("puppet strings: %v\n%s", err, out)
	}
	want, err := os.ReadFile(filepath.Join(copyDir, "REFERENCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(module, "REFERENCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("REFERENCE.md is stale; run `puppet strings generate --format markdown` in %s (-generated +committed):\n%s",
			module, cmp.Diff(string(want), string(got)))
	}
}
