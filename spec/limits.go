package spec

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Bounds on a spec, checked on its bytes before HCL parses them. HCL's
// parsers recurse once per level of nesting, and a file nested deep enough
// overflows the stack: a fatal error no recover catches. Real specs stay far
// below every bound.
const (
	// MaxSpecSize is the largest spec accepted: a 5,000-image spec is
	// about 1.5 MiB.
	MaxSpecSize = 16 << 20
	// MaxNesting bounds how deep brackets, braces and parentheses nest; a
	// spec needs fewer than ten levels.
	MaxNesting = 200
	// MaxListItems bounds the items of one list, tuple or object.
	MaxListItems = 100_000
)

// checkLimits reports the first bound src breaks, at the position where it
// does. The scan is deliberately coarse: brackets and commas inside strings
// and comments count too, so it can only overestimate what HCL will see,
// and the bounds leave room for that.
func checkLimits(src []byte, filename string) hcl.Diagnostics {
	if len(src) > MaxSpecSize {
		return limitDiag(src, filename, 0, "Spec file too large",
			fmt.Sprintf("%s holds %d bytes, more than the %d MiB a spec may have.", filename, len(src), MaxSpecSize>>20))
	}
	var items []int // per open bracket
	var opened []int
	for i, c := range src {
		switch c {
		case '[', '{', '(':
			if len(items) == MaxNesting {
				return limitDiag(src, filename, i, "Spec nested too deeply",
					fmt.Sprintf("Brackets, braces and parentheses nest more than %d levels deep here; no spec needs that many.", MaxNesting))
			}
			items, opened = append(items, 0), append(opened, i)
		case ']', '}', ')':
			if len(items) > 0 {
				items, opened = items[:len(items)-1], opened[:len(opened)-1]
			}
		case ',':
			if n := len(items); n > 0 {
				if items[n-1]++; items[n-1] >= MaxListItems {
					return limitDiag(src, filename, opened[n-1], "List too long",
						fmt.Sprintf("The list or object that starts here holds more than %d items, the most a spec may have in one.", MaxListItems))
				}
			}
		}
	}
	return nil
}

// limitDiag is a diagnostic at byte off of src. It has no snippet: the
// offending line may be megabytes long.
func limitDiag(src []byte, filename string, off int, summary, detail string) hcl.Diagnostics {
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	col := off - (bytes.LastIndexByte(src[:off], '\n') + 1) + 1
	pos := hcl.Pos{Line: line, Column: col, Byte: off}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: col + 1, Byte: off + 1}},
	}}
}
