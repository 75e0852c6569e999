package main

import (
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/internal/testutil"
)

func TestPackageVersion(t *testing.T) {
	tests := []struct {
		describe, want string
	}{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-rc1", "1.2.3~rc1"},
		{"v1.2.3-rc.1", "1.2.3~rc.1"},
		{"v1.2.3-4-gabc1234", "1.2.3+4.gabc1234"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+4.gabc1234.dirty"},
		{"v1.2.3-rc1-4-gabc1234-dirty", "1.2.3~rc1+4.gabc1234.dirty"},
		{"v1.2.3-dirty", "1.2.3+dirty"},
		{"abc1234", "0.0.0+git57.abc1234"},
		{"3e6f1b9", "0.0.0+git57.3e6f1b9"},
		{"abc1234-dirty", "0.0.0+git57.abc1234.dirty"},
		{"release_2", "0.0.0+release.2"},
		{"nightly-3-gabc1234", "0.0.0+nightly.3.gabc1234"},
		{"v2.0.0-beta_1 ", "2.0.0~beta.1"},
	}
	for _, tt := range tests {
		t.Run(tt.describe, func(t *testing.T) {
			got, err := packageVersion(tt.describe, 57)
			if err != nil || got != tt.want {
				t.Errorf("packageVersion(%q) = %q, %v; want %q", tt.describe, got, err, tt.want)
			}
		})
	}
	if _, err := packageVersion(" ", 57); err == nil {
		t.Error("empty version accepted")
	}
	if v, err := packageVersion("abc1234", 0); err == nil {
		t.Errorf("untagged version without a commit count accepted: %q", v)
	}
}

// TestPackageVersionOrder checks with dpkg itself that sanitised versions
// sort the way releases happen: rc < release < commits after it.
func TestPackageVersionOrder(t *testing.T) {
	dpkg := testutil.Need(t, "dpkg")
	order := []string{"abc1234", "v1.2.3-rc1", "v1.2.3-rc1-4-gabc1234", "v1.2.3", "v1.2.3-4-gabc1234", "v1.2.3-4-gabc1234-dirty", "v1.2.4"}
	for i := 1; i < len(order); i++ {
		lo, _ := packageVersion(order[i-1], 57)
		hi, _ := packageVersion(order[i], 57)
		if err := exec.Command(dpkg, "--compare-versions", lo, "lt", hi).Run(); err != nil {
			t.Errorf("dpkg: %s (from %s) is not lower than %s (from %s)", lo, order[i-1], hi, order[i])
		}
	}
}

func TestSubcommands(t *testing.T) {
	help := `Usage:
  prestaged [command]

Available Commands:
  apply       Converge this host
  completion  Generate the autocompletion script
  help        Help about any command
  serve       Serve this host's blobs

Flags:
  -h, --help   help for prestaged
`
	if diff := cmp.Diff([]string{"apply", "serve"}, subcommands(help)); diff != "" {
		t.Errorf("subcommands (-want +got):\n%s", diff)
	}
}
