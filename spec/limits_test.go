package spec

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// Inputs that would exhaust HCL's parser are refused first, each with a
// diagnostic naming the file and where the bound broke.
func TestLimits(t *testing.T) {
	deep := "store = \"/s\"\nx = " + strings.Repeat("[", 300_000) + strings.Repeat("]", 300_000) + "\n"
	long := "store = \"/s\"\nx = [" + strings.Repeat("1,", MaxListItems+1) + "]\n"
	big := "store = \"/s\"\n" + strings.Repeat("# padding\n", MaxSpecSize/10+1)
	tests := []struct {
		name, src, summary string
		line, col          int
	}{
		{"nested 300,000 deep", deep, "Spec nested too deeply", 2, 5 + MaxNesting},
		{"nested in JSON", `{"x": ` + strings.Repeat("[", MaxNesting+1) + `}`, "Spec nested too deeply", 1, 6 + MaxNesting},
		{"a list too long", long, "List too long", 2, 5},
		{"too large", big, "Spec file too large", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "spec.hcl"
			if strings.HasPrefix(tt.src, "{") {
				name = "spec.json"
			}
			s, diags := ParseBytes([]byte(tt.src), name)
			if s != nil || len(diags) != 1 {
				t.Fatalf("got spec %v, %d diagnostics: %v", s != nil, len(diags), diags)
			}
			d := diags[0]
			if d.Summary != tt.summary || d.Subject == nil || d.Subject.Filename != name ||
				d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("diagnostic %q at %v, want %q at %s:%d:%d", d.Summary, d.Subject, tt.summary, name, tt.line, tt.col)
			}
		})
	}
}

// Brackets in strings, heredocs and comments count towards the bounds, so
// the bounds must leave every plausible spec room.
func TestLimitsLeaveRealSpecsAlone(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("store = \"/s\"\nmirror \"m\" {\n  url = \"http://m/\"\n}\n# [[[ a comment ((( \n")
	for i := range 5000 {
		b.WriteString("image \"vm" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i) + "\" {\n  sha256 = \"" + strings.Repeat("ab", 32) +
			"\"\n  size = 1024\n  path = \"p/[x]{y}(z)\"\n  install = \"/i/" + strconv.Itoa(i) + "\"\n}\n")
	}
	if _, diags := ParseBytes(b.Bytes(), "spec.hcl"); diags.HasErrors() {
		t.Fatalf("a 5,000-image spec: %v", diags[0])
	}
}
