package packaging

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// docsPackaged are the generated documents a package of the format ships:
// licences, changelog, the root man page and the completions, where that
// distribution's shells look.
func docsPackaged(format string) []string {
	paths := []string{
		"/usr/share/doc/prestaged/copyright",
		"/usr/share/man/man1/prestaged.1.gz",
		"/usr/share/man/man1/prestaged-apply.1.gz",
		"/usr/share/bash-completion/completions/prestaged",
		"/usr/share/fish/vendor_completions.d/prestaged.fish",
		"/usr/lib/systemd/system-preset/90-prestaged.preset",
	}
	if format == "deb" {
		return append(paths, "/usr/share/doc/prestaged/changelog.Debian.gz",
			"/usr/share/zsh/vendor-completions/_prestaged", "/usr/share/lintian/overrides/prestaged")
	}
	return append(paths, "/usr/share/licenses/prestaged/LICENSE", "/usr/share/zsh/site-functions/_prestaged")
}

// TestPackagedDocs checks both packages ship a man page for every verb the
// binary has (its own `gen-docs` says which), the completions, the
// copyright file and a changelog.
func TestPackagedDocs(t *testing.T) {
	testutil.Need(t, "rpm")
	testutil.Need(t, "dpkg-deb")
	b := artifacts.Get(t)
	man := filepath.Join(t.TempDir(), "man")
	run(t, b.binary, "gen-docs", "--man", man)
	pages, err := filepath.Glob(filepath.Join(man, "*.1"))
	if err != nil || len(pages) < 10 {
		t.Fatalf("gen-docs wrote %d man pages: %v", len(pages), err)
	}
	var want []string
	for _, p := range pages {
		want = append(want, "/usr/share/man/man1/"+filepath.Base(p)+".gz")
	}
	lists := map[string][]string{
		"deb": debContents(t, b.deb),
		"rpm": strings.Fields(run(t, "rpm", "-qlp", b.rpm)),
	}
	for format, files := range lists {
		for _, p := range append(want, docsPackaged(format)...) {
			if !slices.Contains(files, p) {
				t.Errorf("%s: %s missing", format, p)
			}
		}
	}
	if cl := run(t, "rpm", "-qp", "--changelog", b.rpm); !strings.Contains(cl, "Built from prestaged "+describe) {
		t.Errorf("rpm %%changelog:\n%s", cl)
	}
	root := extract(t, b.deb)
	copyright, err := os.ReadFile(filepath.Join(root, "usr/share/doc/prestaged/copyright"))
	if err != nil || !strings.HasPrefix(string(copyright), "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/") ||
		!strings.Contains(string(copyright), "\nFiles: github.com/spf13/cobra/*\n") {
		t.Errorf("copyright is not the DEP-5 list of modules (%v):\n%.500s", err, copyright)
	}
}

// debContents lists the paths in a .deb, as installed.
func debContents(t *testing.T, deb string) []string {
	t.Helper()
	var paths []string
	for _, line := range strings.Split(run(t, "dpkg-deb", "--contents", deb), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 {
			paths = append(paths, strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/"))
		}
	}
	return paths
}

// TestRPMHeader checks what rpm and yum read before installing: the release
// in the file name, Requires for the scriptlets, %license and %doc files.
func TestRPMHeader(t *testing.T) {
	testutil.Need(t, "rpm")
	pkg := artifacts.Get(t).rpm
	if want := "prestaged-" + version + "-1.x86_64.rpm"; filepath.Base(pkg) != want {
		t.Errorf("rpm file %s, want %s", filepath.Base(pkg), want)
	}
	requires := strings.Fields(run(t, "rpm", "-qp", "--requires", pkg))
	for _, r := range []string{"/bin/sh", "systemd"} {
		if !slices.Contains(requires, r) {
			t.Errorf("rpm Requires %q lacks %s", requires, r)
		}
	}
	flags := run(t, "rpm", "-qp", "--queryformat", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]", pkg)
	for _, w := range []string{"l /usr/share/licenses/prestaged/LICENSE", "l /usr/share/doc/prestaged/copyright", "d /usr/share/doc/prestaged/README.md"} {
		if !strings.Contains(flags, "\n"+w+"\n") {
			t.Errorf("rpm file flags lack %q:\n%s", w, flags)
		}
	}
}

// TestLintian runs Debian's own checker on the .deb: no error and no
// warning may remain; what the package cannot fix is overridden in
// packaging/lintian/prestaged with its reason.
func TestLintian(t *testing.T) {
	testutil.Need(t, "lintian")
	out, _ := runCombined("lintian", "--pedantic", "--display-info", "--tag-display-limit", "0", artifacts.Get(t).deb)
	t.Logf("lintian:\n%s", out)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
			t.Errorf("lintian: %s", line)
		}
	}
}
