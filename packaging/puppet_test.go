package packaging

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/internal/testutil"
)

// scratchPuppet is a puppet apply with its own code, config and state
// directories under dir, the example module (and any extra module
// directories) on its module path, and the prestaged under test first on
// PATH, so a run touches nothing outside dir.
type scratchPuppet struct {
	puppet, dir string
	modules     []string
	path        []string // searched before the test's PATH
	env         []string // more variables
}

func newScratchPuppet(t *testing.T, extraModules ...string) *scratchPuppet {
	t.Helper()
	puppet := testutil.Need(t, "puppet")
	b := artifacts.Get(t)
	modules, err := filepath.Abs("../examples/puppet")
	if err != nil {
		t.Fatal(err)
	}
	return &scratchPuppet{puppet: puppet, dir: t.TempDir(), modules: append([]string{modules}, extraModules...),
		path: []string{filepath.Dir(b.binary)}}
}

// apply renders the manifest template with vars (plus Dir and Bin), applies
// it with --detailed-exitcodes and returns the exit status and output.
func (p *scratchPuppet) apply(t *testing.T, manifest string, vars map[string]any, args ...string) (int, string) {
	t.Helper()
	all := map[string]any{"Dir": p.dir, "Bin": filepath.Dir(artifacts.Get(t).binary)}
	for k, v := range vars {
		all[k] = v
	}
	var site bytes.Buffer
	if err := template.Must(template.New("site.pp").Option("missingkey=error").Parse(manifest)).Execute(&site, all); err != nil {
		t.Fatal(err)
	}
	sitePP := filepath.Join(p.dir, "site.pp")
	if err := os.WriteFile(sitePP, site.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"apply", "--detailed-exitcodes", "--color=false",
		"--modulepath=" + strings.Join(p.modules, ":"), "--codedir=" + p.dir + "/p/code", "--confdir=" + p.dir + "/p/conf",
		"--vardir=" + p.dir + "/p/var", "--logdir=" + p.dir + "/p/log", "--rundir=" + p.dir + "/p/run"}, args...)
	cmd := exec.Command(p.puppet, append(argv, sitePP)...)
	cmd.Env = append(append(os.Environ(), p.env...), "PATH="+strings.Join(append(p.path, os.Getenv("PATH")), ":"))
	return exitCode(t, cmd)
}

// testdataManifest reads a manifest template from testdata/puppet.
func testdataManifest(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "puppet", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPuppet applies the example module twice with a real puppet, for a
// spec with a computed tree, a torrent block, an image pinned by sha512 and
// one endorsed in a signed list: the first run writes the spec and stages
// both images (exit 2, changes), the second finds the host converged (0).
func TestPuppet(t *testing.T) {
	p := newScratchPuppet(t)
	for _, d := range []string{"etc", "images", "mirror", "published"} {
		if err := os.MkdirAll(filepath.Join(p.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	img := bytes.Repeat([]byte("prestaged puppet test image\n"), 4096)
	endorsed := bytes.Repeat([]byte("endorsed puppet test image\n"), 4096)
	for name, content := range map[string][]byte{"tiny.img": img, "endorsed.img": endorsed} {
		if err := os.WriteFile(filepath.Join(p.dir, "mirror", name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pki := newEndorser(t, filepath.Join(p.dir, "pki"))
	pki.publish(t, filepath.Join(p.dir, "mirror", "endorsed.img"), "endorsed-1", filepath.Join(p.dir, "published", "site.list"))
	sum := sha512.Sum512(img)
	vars := map[string]any{"SHA512": hex.EncodeToString(sum[:]), "Size": len(img), "EndorserDN": endorserDN, "RootDN": rootDN}
	for _, tt := range []struct {
		name string
		want int // puppet apply --detailed-exitcodes
	}{
		{"first run writes the spec and stages the images", 2},
		{"second run changes nothing", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, out := p.apply(t, testdataManifest(t, "site.pp"), vars); got != tt.want {
				t.Fatalf("puppet apply exit %d, want %d:\n%s", got, tt.want, out)
			}
		})
	}
	for name, want := range map[string][]byte{"tiny.img": img, "endorsed.img": endorsed} {
		if got, _ := os.ReadFile(filepath.Join(p.dir, "images", name)); !bytes.Equal(got, want) {
			t.Errorf("installed %s: %d bytes, differs from the mirror's", name, len(got))
		}
	}
	spec := filepath.Join(p.dir, "etc", "spec.hcl")
	run(t, artifacts.Get(t).binary, "validate", spec)
	got, _ := os.ReadFile(spec)
	for _, want := range []string{`hosts = ["root.example.org", "child.example.org"]`, "\ntorrent {\n", `sha512 = "` + vars["SHA512"].(string) + `"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("spec lacks %s:\n%s", want, got)
		}
	}
}

// TestPuppetCoversSpec renders a spec with every attribute through the
// module's parameters: it fails when the spec gains an attribute the module
// cannot write.
func TestPuppetCoversSpec(t *testing.T) {
	seen := map[string][]string{}
	for _, manifest := range []string{"every-attribute.pp", "parents.pp"} {
		p := newScratchPuppet(t)
		sha := sha512.Sum512([]byte(manifest))
		if code, out := p.apply(t, testdataManifest(t, manifest), map[string]any{"SHA512": hex.EncodeToString(sha[:])}); code != 2 {
			t.Fatalf("%s: puppet apply exit %d, want 2:\n%s", manifest, code, out)
		}
		spec := filepath.Join(p.dir, "spec.hcl")
		run(t, artifacts.Get(t).binary, "validate", spec)
		src, err := os.ReadFile(spec)
		if err != nil {
			t.Fatal(err)
		}
		renderedAttributes(t, src, seen)
	}
	checkCovers(t, "Puppet-rendered", seen)
}

// notSpec are the class parameters that are not spec attributes: blocks,
// shorthands and how the module runs prestaged.
var notSpec = []string{"images", "mirrors", "parents", "listen", "peer", "trust", "torrent", "hooks", "spec_path",
	"manage_package", "package_ensure", "manage_services", "serve", "timer", "apply", "path", "apply_wait", "apply_timeout"}

// TestPuppetTypesMirrorSpec reads the module's types (types/<block>.pp)
// and class parameters without running Puppet: each struct type's keys
// must be its block's attributes, no more and no fewer, and every
// top-level attribute a parameter. A key typed as the struct of a nested
// block (defaults => Prestaged::Defaults) is that block, not an attribute;
// types that are not structs (Prestaged::Mode) are values, not blocks.
func TestPuppetTypesMirrorSpec(t *testing.T) {
	dir := "../examples/puppet/prestaged"
	got := map[string][]string{"": {}}
	init, err := os.ReadFile(filepath.Join(dir, "manifests", "init.pp"))
	if err != nil {
		t.Fatal(err)
	}
	_, list, _ := strings.Cut(string(init), "\nclass prestaged (\n")
	list, _, _ = strings.Cut(list, "\n) {\n")
	params := regexp.MustCompile(`(?m)^\s+\S.*\s\$(\w+)\s+=`).FindAllStringSubmatch(list, -1)
	for _, m := range params {
		if !slices.Contains(notSpec, m[1]) {
			got[""] = append(got[""], m[1])
		}
	}
	slices.Sort(got[""])
	types, err := filepath.Glob(filepath.Join(dir, "types", "*.pp"))
	if err != nil {
		t.Fatal(err)
	}
	structs := map[string]string{} // block => its type's source
	for _, f := range types {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), " = Struct[{\n") {
			structs[strings.TrimSuffix(filepath.Base(f), ".pp")] = string(b)
		}
	}
	key := regexp.MustCompile(`(?m)^\s+(?:Optional\[)?'?(\w+)'?\]?\s+=>\s*(.*?),?$`)
	for block, src := range structs {
		got[block] = []string{}
		for _, m := range key.FindAllStringSubmatch(src, -1) {
			if _, nested := structs[strings.ToLower(strings.TrimPrefix(m[2], "Prestaged::"))]; nested && strings.HasPrefix(m[2], "Prestaged::") {
				continue
			}
			got[block] = append(got[block], m[1])
		}
		slices.Sort(got[block])
	}
	checkCovers(t, "Puppet types", got)
}

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
