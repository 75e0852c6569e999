package main_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/internal/testutil"
)

// docsJSON is the reference of every verb's --json object.
const docsJSON = "../../docs/json.md"

// docExample is one JSON example of docs/json.md: a ```json block right
// after a ```console block whose last "$ prestaged ..." line made it.
type docExample struct {
	verb    string // "plan", "list verify"
	command string
	line    int
	json    string
}

// readDocExamples parses docs/json.md.
func readDocExamples(t *testing.T) []docExample {
	t.Helper()
	f, err := os.Open(docsJSON)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out     []docExample
		block   string // the fence's info string while inside a block
		command string // the last command of the last console block
		cur     *docExample
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fence, isFence := strings.CutPrefix(line, "```")
		switch {
		case isFence && block == "":
			block = strings.TrimSpace(fence)
			if block == "json" {
				if command == "" {
					t.Fatalf("%s:%d: a json block without a console block before it", docsJSON, n)
				}
				cur = &docExample{verb: verbOf(command), command: command, line: n}
			} else if block == "console" {
				command = ""
			}
		case isFence:
			if cur != nil {
				out = append(out, *cur)
				cur, command = nil, ""
			}
			block = ""
		case block == "console" && strings.HasPrefix(line, "$ prestaged "):
			command = strings.TrimPrefix(line, "$ ")
		case cur != nil:
			cur.json += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// verbOf is the verb of a command line: its words after "prestaged" up to
// the first flag or file name.
func verbOf(command string) string {
	var verb []string
	for _, w := range strings.Fields(command)[1:] {
		if strings.HasPrefix(w, "-") || strings.ContainsAny(w, "./") {
			break
		}
		verb = append(verb, w)
	}
	return strings.Join(verb, " ")
}

// jsonKeys lists the key paths of a decoded JSON value: "plan.images[].code".
// An array stands for its first element.
func jsonKeys(v any, path string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			out[p] = true
			jsonKeys(c, p, out)
		}
	case []any:
		if len(x) > 0 {
			jsonKeys(x[0], path+"[]", out)
		}
	}
}

// docsScenario runs each verb on one small site, in an order that gives each
// one something to report, and returns its stdout by verb.
func docsScenario(t *testing.T) map[string]string {
	s := newSite(t)
	image := img{name: "slc6-batch", content: randomBytes(100<<10, 29)}
	if err := os.WriteFile(s.path("mirror", "slc6-batch-20101130.img"), image.content, 0o644); err != nil {
		t.Fatal(err)
	}
	good := "store = \"store\"\n\nmirror \"central\" {\n  url = \"mirror/\"\n}\n\n" +
		"image \"slc6-batch\" {\n  sha256  = \"" + image.digest() + "\"\n  size    = 102400\n" +
		"  path    = \"slc6-batch-20101130.img\"\n  install = \"images/slc6-batch.img\"\n}\n"
	spec, bad := s.path("spec.hcl"), s.path("bad.hcl")
	for p, content := range map[string]string{spec: good, bad: strings.Replace(good, "sha256 ", "sha265 ", 1)} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	out := map[string]string{}
	step := func(verb string, wantCode int, args ...string) {
		t.Helper()
		r := run(t, args...)
		if r.code != wantCode {
			t.Fatalf("%s: want exit %d, got %s", verb, wantCode, r)
		}
		out[verb] = r.stdout
	}
	step("validate", 1, "validate", "--json", bad)
	step("plan", 0, "plan", "--json", spec)
	step("apply", 0, "apply", "--json", "--no-progress", spec)
	step("status", 0, "status", "--json", spec)
	if err := os.Remove(s.path("images", "slc6-batch.img")); err != nil {
		t.Fatal(err)
	}
	step("verify", 1, "verify", "--json", "--no-progress", spec)
	step("version", 0, "version", "--json")

	caDir, cert, key := endorserPKI(t)
	list, signed := s.path("desy.json"), s.path("desy.list")
	r := run(t, "list", "new", "--title", "DESY images", "--id", "desy-list", "--uri", "https://x/desy.list")
	if r.code != 0 || os.WriteFile(list, []byte(r.stdout), 0o644) != nil {
		t.Fatal(r)
	}
	if r := run(t, "list", "add-image", list, s.path("mirror", "slc6-batch-20101130.img"),
		"--id", "slc6-batch", "--title", "SLC6 batch", "--uri", "https://x/slc6-batch-20101130.img"); r.code != 0 {
		t.Fatal(r)
	}
	r = run(t, "list", "sign", list, "--cert", cert, "--key", key, "--days", "30")
	if r.code != 0 {
		t.Fatal(r)
	}
	if err := os.WriteFile(signed, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	step("list verify", 0, "list", "verify", signed, "--ca-dir", caDir, "--json")
	paths := strings.NewReplacer(s.dir+string(filepath.Separator), "/srv/site/", caDir, "/etc/grid-security/certificates")
	for verb, o := range out {
		out[verb] = paths.Replace(o)
		// To regenerate the examples after a field was added.
		if d := os.Getenv("PRESTAGED_DOCS_JSON_DIR"); d != "" {
			if err := os.WriteFile(filepath.Join(d, strings.ReplaceAll(verb, " ", "-")+".json"), []byte(out[verb]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// optionalKeys may be in a verb's real output or not, depending on the build.
var optionalKeys = map[string][]string{"version": {"commit"}}

// TestDocsJSONExamples: every JSON example in docs/json.md has the keys of
// the real output of its verb at every level, and every verb with --json
// has an example.
func TestDocsJSONExamples(t *testing.T) {
	examples := readDocExamples(t)
	real := docsScenario(t)
	seen := map[string]int{}
	for _, ex := range examples {
		seen[ex.verb]++
		got, ok := real[ex.verb]
		if !ok {
			t.Errorf("%s:%d: %q: no scenario for verb %q in this test", docsJSON, ex.line, ex.command, ex.verb)
			continue
		}
		if !strings.Contains(ex.command, "--json") {
			t.Errorf("%s:%d: %q lacks --json", docsJSON, ex.line, ex.command)
		}
		var doc, out any
		if err := json.Unmarshal([]byte(ex.json), &doc); err != nil {
			t.Errorf("%s:%d: the example of %q is not JSON: %v", docsJSON, ex.line, ex.command, err)
			continue
		}
		if err := json.Unmarshal([]byte(got), &out); err != nil {
			t.Fatalf("%s --json: %v\n%s", ex.verb, err, got)
		}
		want, have := map[string]bool{}, map[string]bool{}
		jsonKeys(doc, "", want)
		jsonKeys(out, "", have)
		for _, k := range optionalKeys[ex.verb] {
			delete(want, k)
			delete(have, k)
		}
		if diff := cmp.Diff(sortedKeys(want), sortedKeys(have)); diff != "" {
			t.Errorf("%s:%d: keys of %q (-documented +real):\n%s\nreal output:\n%s", docsJSON, ex.line, ex.command, diff, got)
		}
	}
	for verb := range real {
		if seen[verb] != 1 {
			t.Errorf("%s: %d examples of %q, want 1", docsJSON, seen[verb], verb)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestReadmeForOperators: README.md stays short enough to read, and links
// every file of docs/, where everything else is.
func TestReadmeForOperators(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(readme), "\n"); n > 250 {
		t.Errorf("README.md has %d lines, want at most 250: move details to docs/", n)
	}
	for _, d := range testutil.Files(t, "../../docs/*.md") {
		if link := "(docs/" + filepath.Base(d) + ")"; !strings.Contains(string(readme), link) {
			t.Errorf("README.md does not link %s", link)
		}
	}
}
