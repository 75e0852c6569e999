package packaging

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// specAttributes reads the spec's attribute names from the hcl tags of the
// raw structs in spec/*.go (they are unexported, so the source is parsed
// rather than reflected on): block type ("" for the top level) => its
// attributes, sorted. The configuration-management examples must cover
// exactly these.
func specAttributes(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	structs := map[string]*ast.StructType{}
	files, err := parseDir(fset, "../spec")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	out := map[string][]string{}
	var walk func(block, typeName string)
	walk = func(block, typeName string) {
		st, ok := structs[typeName]
		if !ok {
			t.Fatalf("spec: no struct %s", typeName)
		}
		out[block] = []string{}
		for _, field := range st.Fields.List {
			if field.Tag == nil {
				continue
			}
			tag := reflect.StructTag(strings.Trim(field.Tag.Value, "`")).Get("hcl")
			name, kind, _ := strings.Cut(tag, ",")
			switch kind {
			case "", "optional":
				out[block] = append(out[block], name)
			case "block":
				walk(name, elemName(field.Type))
			}
		}
		slices.Sort(out[block])
	}
	walk("", "rawSpec")
	if len(out) < 2 {
		t.Fatalf("spec: found only %v; has rawSpec moved?", out)
	}
	return out
}

// parseDir parses the non-test Go files of dir.
func parseDir(fset *token.FileSet, dir string) ([]*ast.File, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// elemName is the struct name in a field type such as *rawPeer or []*rawImage.
func elemName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return elemName(e.X)
	case *ast.ArrayType:
		return elemName(e.Elt)
	case *ast.Ident:
		return e.Name
	}
	return ""
}

// renderedAttributes parses a rendered spec and adds, per block type ("" for
// the top level; nested blocks by their own type, as specAttributes has
// them), the attributes it sets to seen.
func renderedAttributes(t *testing.T, src []byte, seen map[string][]string) {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, "spec.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("rendered spec: %s\n%s", diags, src)
	}
	body := f.Body.(*hclsyntax.Body)
	add := func(block string, attrs hclsyntax.Attributes) {
		for name := range attrs {
			if !slices.Contains(seen[block], name) {
				seen[block] = append(seen[block], name)
			}
		}
		slices.Sort(seen[block])
	}
	add("", body.Attributes)
	var blocks func(hclsyntax.Blocks)
	blocks = func(bs hclsyntax.Blocks) {
		for _, b := range bs {
			if seen[b.Type] == nil {
				seen[b.Type] = []string{}
			}
			add(b.Type, b.Body.Attributes)
			blocks(b.Body.Blocks) // a trust's defaults
		}
	}
	blocks(body.Blocks)
}

// checkCovers fails when got, attribute names per block, differs from the
// spec's: what renders must be what spec/*.go decodes.
func checkCovers(t *testing.T, what string, got map[string][]string) {
	t.Helper()
	if diff := cmp.Diff(specAttributes(t), got); diff != "" {
		t.Errorf("%s and the spec's attributes (spec/*.go hcl tags) differ (-spec +%s):\n%s", what, what, diff)
	}
}

func TestSpecAttributesFound(t *testing.T) {
	got := specAttributes(t)
	for block, attr := range map[string]string{"": "parallel", "peer": "hosts", "image": "infohash", "torrent": "web_seed"} {
		if !slices.Contains(got[block], attr) {
			t.Errorf("specAttributes()[%q] lacks %s: %v", block, attr, got)
		}
	}
}
