// Package internal_test enforces docs/design.md's "Import direction"
// on the whole module, from `go list -json ./...`, so the direction is
// checked by a test rather than remembered.
package internal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/internal/testutil"
)

const module = "github.com/prestaged/prestaged"

// rule says which packages of ours a package may import directly (its
// non-test imports). A package with no rule fails the test: adding a package
// means deciding where it sits.
type rule struct {
	pattern string   // a package path relative to the module; "x/..." matches x and below
	allow   []string // patterns it may import; "*" allows any product package
}

// rules follow docs/design.md: cmd -> engine -> {spec, fetchers}; engine/* ->
// spec; fetchers/* -> fetchers; spec, fetchers and the rest import only the
// leaf digest; engine never picks a concrete fetcher. Earlier rules win.
var rules = []rule{
	{"digest", nil},
	{"spec", []string{"digest"}},
	{"fetchers", []string{"digest", "internal/safe"}},
	{"fetchers/fetcherstest", []string{"fetchers", "digest"}},
	{"fetchers/...", []string{"fetchers", "digest", "internal/safe"}},
	{"engine", []string{"spec", "fetchers", "digest", "engine/...", "internal/ranges", "internal/safe"}},
	{"engine/...", []string{"spec", "digest", "internal/ranges", "internal/safe", "internal/holes"}},
	{"sources", []string{"spec", "fetchers", "fetchers/...", "digest", "engine/store", "internal/safe"}},
	{"node", []string{"spec", "digest", "engine/...", "fetchers", "fetchers/...", "sources", "internal/safe"}},
	{"demo", []string{"spec", "digest", "engine", "engine/...", "fetchers", "fetchers/...", "sources", "node", "internal/safe"}},
	{"report", []string{"engine", "spec", "digest", "internal/safe"}},
	{"cmd/...", []string{"*"}},
	{"packaging/...", []string{"digest"}},
	{"internal/tools", nil},
	{"internal/testutil", []string{"digest"}},
	{"internal/ranges", nil},
	{"internal/safe", nil},
	{"internal/clidocs", nil},
	{"internal/holes", nil},
	{"examples", nil},
	{"internal", nil},
	// Harnesses drive the product from outside; anything goes.
	{"test/...", []string{"*", "test/...", "internal/testutil", "fetchers/fetcherstest"}},
}

// testOnly are packages made for tests: no product package may depend on
// them, even indirectly.
var testOnly = []string{"test/...", "internal/testutil", "fetchers/fetcherstest"}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

func listModule(t *testing.T) []listedPackage {
	t.Helper()
	goBin := testutil.Need(t, "go")
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Imports,Deps,Error", "./...")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

// rel is a package path relative to the module, or "" for other modules.
func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

func matches(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pattern == pkg
}

func matchesAny(patterns []string, pkg string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(p, pkg) })
}

func ruleFor(pkg string) (rule, bool) {
	for _, r := range rules {
		if matches(r.pattern, pkg) {
			return r, true
		}
	}
	return rule{}, false
}

// allowed reports whether pkg may import dep, both relative to the module.
func allowed(r rule, pkg, dep string) bool {
	if matchesAny(r.allow, dep) {
		return true
	}
	return slices.Contains(r.allow, "*") && !matchesAny(testOnly, dep)
}

// violations lists every import that breaks the rules, as "pkg -> dep".
func violations(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		pkg, ours := rel(p.ImportPath)
		if !ours {
			continue
		}
		r, ok := ruleFor(pkg)
		if !ok {
			out = append(out, pkg+": no import rule; add one to rules in internal/importcheck_test.go")
			continue
		}
		for _, imp := range p.Imports {
			if dep, ours := rel(imp); ours && !allowed(r, pkg, dep) {
				out = append(out, pkg+" -> "+dep)
			}
		}
		if matchesAny(testOnly, pkg) {
			continue
		}
		for _, d := range p.Deps {
			if dep, ours := rel(d); ours && matchesAny(testOnly, dep) {
				out = append(out, pkg+" depends on test-only "+dep)
			}
		}
	}
	return out
}

func TestImportDirection(t *testing.T) {
	pkgs := listModule(t)
	for _, p := range pkgs {
		if p.Error != nil {
			t.Logf("go list: %s: %s (checked with the imports it could read)", p.ImportPath, p.Error.Err)
		}
	}
	if v := violations(pkgs); len(v) > 0 {
		t.Errorf("imports against docs/design.md's direction:\n  %s", strings.Join(v, "\n  "))
	}
}

// TestRules proves the rules catch what docs/design.md forbids, on a made-up
// module, so a rule loosened by mistake shows up here.
func TestRules(t *testing.T) {
	p := func(path string, imports ...string) listedPackage {
		lp := listedPackage{ImportPath: module + "/" + path}
		for _, i := range imports {
			lp.Imports = append(lp.Imports, module+"/"+i)
			lp.Deps = append(lp.Deps, module+"/"+i)
		}
		return lp
	}
	tests := []struct {
		name string
		pkg  listedPackage
		want []string
	}{
		{"cmd picks concrete fetchers", p("cmd/prestaged", "engine", "fetchers/mirror", "spec"), nil},
		{"engine uses fetchers and spec", p("engine", "fetchers", "spec", "engine/store", "digest"), nil},
		{"engine picks a fetcher", p("engine", "fetchers/mirror"), []string{"engine -> fetchers/mirror"}},
		{"engine imports torrent", p("engine", "fetchers/torrent"), []string{"engine -> fetchers/torrent"}},
		{"engine imports cmd", p("engine", "cmd/prestaged"), []string{"engine -> cmd/prestaged"}},
		{"store imports fetchers", p("engine/store", "fetchers"), []string{"engine/store -> fetchers"}},
		{"trust imports spec", p("engine/trust", "spec", "digest"), nil},
		{"spec imports engine", p("spec", "engine"), []string{"spec -> engine"}},
		{"spec imports digest", p("spec", "digest"), nil},
		{"digest imports spec", p("digest", "spec"), []string{"digest -> spec"}},
		{"fetchers imports spec", p("fetchers", "spec"), []string{"fetchers -> spec"}},
		{"mirror imports engine/store", p("fetchers/mirror", "engine/store"), []string{"fetchers/mirror -> engine/store"}},
		{"peer imports mirror", p("fetchers/peer", "fetchers/mirror"), []string{"fetchers/peer -> fetchers/mirror"}},
		{"cmd imports testutil", p("cmd/prestaged", "internal/testutil"), []string{
			"cmd/prestaged -> internal/testutil", "cmd/prestaged depends on test-only internal/testutil"}},
		{"product imports a harness", p("cmd/prestaged", "test/bench"), []string{
			"cmd/prestaged -> test/bench", "cmd/prestaged depends on test-only test/bench"}},
		{"harness imports anything", p("test/bench", "internal/testutil", "engine"), nil},
		{"unknown package", p("newthing"), []string{"newthing: no import rule; add one to rules in internal/importcheck_test.go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, violations([]listedPackage{tt.pkg})); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}
