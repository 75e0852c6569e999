package spec

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestLimitsRefuse checks that each bound is refused before HCL parses the
// file, with a diagnostic naming the file and the line where it broke.
func TestLimitsRefuse(t *testing.T) {
	deep := func(n int, open, close string) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	tests := []struct {
		name, file, src, summary string
		line                     int
	}{
		{"brackets 300000 deep", "deep.hcl", "store = \"/s\"\nx = " + deep(300_000, "[", "]") + "\n", "Spec nested too deeply", 2},
		{"braces", "deep.hcl", "x = " + deep(MaxNesting+1, "{a=", "}"), "Spec nested too deeply", 1},
		{"parentheses", "deep.hcl", "x = " + deep(MaxNesting+1, "(", ")"), "Spec nested too deeply", 1},
		{"interpolations", "deep.hcl", "x = " + deep(MaxNesting, "\"${", "}\""), "Spec nested too deeply", 1},
		{"heredoc interpolations", "deep.hcl", "x = <<EOT\n" + deep(MaxNesting, "${[", "]}") + "\nEOT\n", "Spec nested too deeply", 2},
		{"json", "deep.json", deep(MaxNesting+1, "[", "]"), "Spec nested too deeply", 1},
		{"json template", "deep.json", `{"x": "` + deep(MaxNesting, "${[", "]}") + `"}`, "Spec nested too deeply", 1},
		{"unary operators", "ops.hcl", "x = " + strings.Repeat("!", 300_000) + "true\n", "Expression too complex", 1},
		{"conditionals", "ops.hcl", "\nx = " + strings.Repeat("true ? 1 : ", 300_000) + "2\n", "Expression too complex", 2},
		{"binary operators", "ops.hcl", "x = 1" + strings.Repeat("+1", 300_000) + "\n", "Expression too complex", 1},
		{"template directives", "ops.hcl", "x = \"" + strings.Repeat("%{if true}", 300_000) + "\"\n", "Expression too complex", 1},
		{"long list", "list.hcl", "x = [" + strings.Repeat("1,", MaxListItems) + "]\n", "List too long", 1},
		{"too large", "big.hcl", "# " + strings.Repeat("x", MaxSpecSize) + "\n", "Spec file too large", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := ParseBytes([]byte(tt.src), tt.file)
			if got != nil || len(diags.Diagnostics) != 1 {
				t.Fatalf("ParseBytes = %v, %d diagnostics %v; want nil and one", got, len(diags.Diagnostics), diags)
			}
			d := diags.Diagnostics[0]
			if d.Summary != tt.summary || d.Subject == nil || d.Subject.Filename != tt.file || d.Subject.Start.Line != tt.line {
				t.Errorf("diagnostic %q at %v; want %q at %s:%d", d.Summary, d.Subject, tt.summary, tt.file, tt.line)
			}
			var buf bytes.Buffer
			if err := Render(&buf, diags, false); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), tt.file) || buf.Len() > 4096 {
				t.Errorf("rendered diagnostic does not name %s or is %d bytes long:\n%.2000s", tt.file, buf.Len(), buf.String())
			}
		})
	}
}

// TestLimitsAdmit checks that the scan does not refuse valid specs whose
// strings, heredocs and comments hold brackets, operators and separators.
func TestLimitsAdmit(t *testing.T) {
	many := strings.Repeat("[[[[", 100)
	ops := strings.Repeat("!-+*/%?<>=&|", 100)
	srcs := map[string]string{
		"strings.hcl": `store = "/s/` + many + ops + `\"]]]}}}"` + "\n" +
			`mirror "m" { url = "https://example.org/` + many + `" }` + "\n",
		"heredoc.hcl": "# " + many + "\n/* " + many + strings.Repeat("!-+*%?<>=&|", 100) + " */\n" +
			"store = <<-EOT\n  /s" + many + ops + "$${[[[ %%{ \"\n  EOT\n" +
			`mirror "m" { url = "https://example.org/" }` + "\n",
		"template.hcl": `store = "/s${"x"}%{ if true }y%{ endif }"` + "\n" +
			`mirror "m" { url = "https://example.org/" }` + "\n",
		"strings.json": `{"store": "/s/` + many + ops + `\"]]]", "mirror": {"m": {"url": "https://example.org/` + many + `"}}}`,
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			if diags := checkLimits([]byte(src), name, strings.HasSuffix(name, ".json")); diags.HasErrors() {
				t.Fatalf("checkLimits refused a valid spec: %v", diags)
			}
			if _, diags := ParseBytes([]byte(src), name); diags.HasErrors() {
				t.Fatalf("ParseBytes: %v", diags)
			}
		})
	}
}

// TestLimitsAdmitEveryKnownSpec runs the scan over every spec in the tree,
// bad ones included: the bounds must leave their diagnostics to HCL.
func TestLimitsAdmitEveryKnownSpec(t *testing.T) {
	files := testutil.Files(t, "testdata/*/*.hcl", "testdata/*/*.json", "../examples/*.hcl", "../examples/*/*.hcl",
		"../examples/*/*/*.hcl", "../packaging/*.hcl")
	if len(files) < 10 {
		t.Fatalf("found only %d specs: %v", len(files), files)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if diags := checkLimits(src, f, strings.HasSuffix(f, ".json")); diags.HasErrors() {
			t.Errorf("checkLimits(%s) refused it: %v", f, diags)
		}
	}
}
