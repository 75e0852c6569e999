package packaging

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestQuattor renders the ncm-metaconfig template with Perl's Template
// Toolkit from JSON equivalents of Pan contents, as ncm-metaconfig would,
// and validates each result with `prestaged validate`.
func TestQuattor(t *testing.T) {
	tests := []struct {
		name, contents string
		want           []string // in the rendered spec
	}{
		{"example profile", "../examples/quattor/batch-node.json", []string{
			`parents = ["lxb0012.example.org:7946", "lxb0013.example.org:7946"]`,
			`size = 10737418240`, `trust = "cern"`}},
		{"defaults only", "testdata/quattor-empty.json", []string{`store = "/var/lib/prestaged"`}},
		{"escapes", "testdata/quattor-escapes.json", []string{
			`list = "https://example.org/$${list}.list"`, `endorser_dn = "/CN=\"quoted\" \\ %%{x}"`,
			`endorser_ca = "/CN=tab\there"`, `pipelined = false`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := renderQuattor(t, tt.contents)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("rendered spec lacks %s:\n%s", w, out)
				}
			}
		})
	}
}

// renderQuattor renders the template from a contents file as
// ncm-metaconfig would and checks the result with `prestaged validate`.
func renderQuattor(t *testing.T, contents string) string {
	t.Helper()
	perl := testutil.Need(t, "perl")
	if err := exec.Command(perl, "-MTemplate", "-MJSON::PP", "-e1").Run(); err != nil {
		testutil.Unavailable(t, "Perl's Template Toolkit is not installed (libtemplate-perl)")
	}
	out := run(t, perl, "../examples/quattor/render.pl", "../examples/quattor/metaconfig", "prestaged/spec", contents)
	path := filepath.Join(t.TempDir(), "spec.hcl")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, artifacts.Get(t).binary, "validate", path)
	return out
}

// TestQuattorCoversSpec renders contents with every attribute of the spec
// (the explicit tree from the example profile): it fails when the spec
// gains an attribute the template cannot write. No Pan compiler is packaged
// for Debian, so the schema itself is checked by TestQuattorSchemaMirrorsSpec
// only, by reading it.
func TestQuattorCoversSpec(t *testing.T) {
	seen := map[string][]string{}
	for _, contents := range []string{"testdata/quattor-every-attribute.json", "../examples/quattor/batch-node.json"} {
		renderedAttributes(t, []byte(renderQuattor(t, contents)), seen)
	}
	checkCovers(t, "Quattor-rendered", seen)
}

// TestQuattorSchemaMirrorsSpec reads the Pan schema's types: each block's
// type must declare the block's attributes (and a name for a labelled
// block, an entry for a nested one such as a trust's defaults), and
// prestaged_spec the top-level ones and one entry per block.
func TestQuattorSchemaMirrorsSpec(t *testing.T) {
	pan, err := os.ReadFile("../examples/quattor/metaconfig/prestaged/pan/schema.pan")
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{"peer": "peer", "mirrors": "mirror", "trusts": "trust", "torrent": "torrent", "images": "image",
		"hooks": "hook", "defaults": "defaults"}
	got := map[string][]string{}
	types := regexp.MustCompile(`(?ms)^type prestaged_(\w+) = \{\n(.*?)^\}`).FindAllStringSubmatch(string(pan), -1)
	key := regexp.MustCompile(`(?m)^\s+"(\w+)" [?:]`)
	for _, ty := range types {
		block := ty[1]
		if block == "spec" {
			block = ""
		}
		got[block] = []string{}
		for _, k := range key.FindAllStringSubmatch(ty[2], -1) {
			if _, isBlock := blocks[k[1]]; isBlock || (block != "" && k[1] == "name") {
				continue
			}
			got[block] = append(got[block], k[1])
		}
		slices.Sort(got[block])
	}
	checkCovers(t, "Pan schema", got)
}

// TestQuattorExampleInSync checks that batch-node.json, which the test
// renders, says what the Pan profile batch-node.pan says: every value of
// the JSON appears in the Pan file as a literal.
func TestQuattorExampleInSync(t *testing.T) {
	pan, err := os.ReadFile("../examples/quattor/batch-node.pan")
	testutil.Must(t, err)
	raw, err := os.ReadFile("../examples/quattor/batch-node.json")
	testutil.Must(t, err)
	var contents any
	if err := json.Unmarshal(raw, &contents); err != nil {
		t.Fatal(err)
	}
	for _, lit := range literals(contents) {
		if !strings.Contains(string(pan), lit) {
			t.Errorf("batch-node.pan lacks %s, which batch-node.json has", lit)
		}
	}
}

// literals lists the Pan spelling of every key and leaf value.
func literals(v any) []string {
	switch v := v.(type) {
	case map[string]any:
		var out []string
		for k, e := range v {
			out = append(out, fmt.Sprintf("%q", k))
			out = append(out, literals(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, literals(e)...)
		}
		return out
	case string:
		return []string{fmt.Sprintf("%q", v)}
	case float64:
		return []string{fmt.Sprintf("%.0f", v)}
	}
	return []string{fmt.Sprint(v)}
}
