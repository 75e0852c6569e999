package spec

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// DiagnosticWidth is the column at which Render wraps the detail text of a
// diagnostic, as Terraform and Packer do.
const DiagnosticWidth = 78

// Diagnostics are what Parse found, with the files they point into, so that
// Render shows source snippets from the value alone.
type Diagnostics struct {
	hcl.Diagnostics
	// Files are the parsed files by the filename Parse was given; nil when
	// the file was not parsed (unreadable, or beyond the limits).
	Files map[string]*hcl.File
}

// Render writes diags as HCL tools do (severity, summary, "on FILE line N",
// the source lines with the subject highlighted when color is on, detail with
// "Did you mean" hints), taking source text from the files Parse read.
func Render(w io.Writer, diags Diagnostics, color bool) error {
	return WriteDiagnostics(w, diags.Files, diags.Diagnostics, DiagnosticWidth, color)
}

// WriteDiagnostics is Render with explicit files and width (0: no wrapping).
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	if err := hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(diags); err != nil {
		return fmt.Errorf("spec: render diagnostics: %w", err)
	}
	return nil
}

// Problem is a diagnostic flattened to plain data for --json output. Line and
// column are 1-based; End points just past the subject.
type Problem struct {
	Severity  string `json:"severity"` // "error" or "warning"
	Summary   string `json:"summary"`
	Detail    string `json:"detail,omitempty"`
	Filename  string `json:"filename,omitempty"`
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
	EndLine   int    `json:"end_line,omitempty"`
	EndColumn int    `json:"end_column,omitempty"`
}

// Problems converts diags for machine-readable output, one Problem each.
func Problems(diags hcl.Diagnostics) []Problem {
	out := make([]Problem, 0, len(diags))
	for _, d := range diags {
		p := Problem{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			p.Severity = "warning"
		}
		if s := d.Subject; s != nil {
			p.Filename, p.Line, p.Column = s.Filename, s.Start.Line, s.Start.Column
			p.EndLine, p.EndColumn = s.End.Line, s.End.Column
		}
		out = append(out, p)
	}
	return out
}

// validator accumulates diagnostics while the raw, decoded blocks are turned
// into a Spec, so that every problem of a file is reported at once.
type validator struct {
	dir   string // the spec file's directory, absolute
	diags hcl.Diagnostics
	// failed holds the subjects of decoding errors. A value that failed to
	// decode is left zero, and checks on it would only repeat the problem.
	failed []hcl.Range
}

func newValidator(dir string, decodeDiags hcl.Diagnostics) *validator {
	v := &validator{dir: dir, diags: decodeDiags}
	for _, d := range decodeDiags {
		if d.Severity == hcl.DiagError && d.Subject != nil && !d.Subject.Empty() {
			v.failed = append(v.failed, *d.Subject)
		}
	}
	return v
}

// errors counts the error diagnostics so far.
func (v *validator) errors() int {
	n := 0
	for _, d := range v.diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

func (v *validator) errorf(at hcl.Range, summary, format string, args ...any) {
	v.add(hcl.DiagError, at, summary, fmt.Sprintf(format, args...))
}

func (v *validator) warnf(at hcl.Range, summary, format string, args ...any) {
	v.add(hcl.DiagWarning, at, summary, fmt.Sprintf(format, args...))
}

func (v *validator) add(sev hcl.DiagnosticSeverity, at hcl.Range, summary, detail string) {
	for _, f := range v.failed {
		if within(at, f) || within(f, at) {
			return
		}
	}
	v.diags = append(v.diags, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail, Subject: at.Ptr()})
}

// within reports whether a lies inside b. hcl.Range.Overlaps is not used
// because it counts ranges that merely touch as overlapping.
func within(a, b hcl.Range) bool {
	return a.Filename == b.Filename && !a.Empty() && a.Start.Byte >= b.Start.Byte && a.End.Byte <= b.End.Byte
}

// present reports whether an attribute was written: gohcl sets its range
// field only then.
func present(r hcl.Range) bool { return r.Filename != "" }

// suggest is the HCL-style hint for a misspelt name: ` Did you mean "x"?`,
// or "" when no candidate is close.
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3 // more than two edits away is a different word
	for _, c := range slices.Sorted(slices.Values(candidates)) {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// quoted lists names for a detail message: "a", "b" and "c".
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	switch len(q) {
	case 0:
		return "none"
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// tidy orders diags by position, so that a file's problems read top to
// bottom, and drops a "Missing required argument" that a misspelt argument
// in the same block explains ("instal" for "install"): the typo is the one
// problem to fix.
func tidy(diags hcl.Diagnostics, f *hcl.File) hcl.Diagnostics {
	var body *hclsyntax.Body
	if f != nil {
		body, _ = f.Body.(*hclsyntax.Body)
	}
	var out hcl.Diagnostics
	for _, d := range diags {
		if body == nil || d.Summary != "Missing required argument" || !misspelt(d, diags, body) {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return out
}

func misspelt(missing *hcl.Diagnostic, diags hcl.Diagnostics, body *hclsyntax.Body) bool {
	_, rest, _ := strings.Cut(missing.Detail, `"`)
	name, _, _ := strings.Cut(rest, `"`)
	if missing.Subject == nil || name == "" {
		return false
	}
	hint := fmt.Sprintf("Did you mean %q?", name)
	for _, b := range body.Blocks {
		if !b.Body.SrcRange.ContainsPos(missing.Subject.Start) {
			continue
		}
		for _, d := range diags {
			if d.Summary == "Unsupported argument" && d.Subject != nil &&
				b.Body.SrcRange.ContainsPos(d.Subject.Start) && strings.HasSuffix(d.Detail, hint) {
				return true
			}
		}
	}
	return false
}
