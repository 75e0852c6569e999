package spec

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
)

// Bounds on a spec, checked on its bytes before HCL parses them. HCL's
// parsers recurse once per level of nesting: a file nested deep enough
// overflows the goroutine stack, a fatal error that no recover catches
// and that exits 2, which Puppet's --detailed-exitcodes reads as "changes
// applied". Real specs stay far below every bound.
const (
	// MaxSpecSize is the largest spec file read: a 5,000-image spec is
	// about 1.5 MiB.
	MaxSpecSize = 16 << 20
	// MaxNesting is how deep brackets, braces, parentheses, strings and
	// template interpolations may nest; a spec needs fewer than ten levels.
	MaxNesting = 64
	// MaxListItems is how many items one list, tuple or object may hold.
	MaxListItems = 100_000
	// MaxOperators is how many operators (unary, binary, conditional) and
	// template directives one expression may hold between separators: HCL
	// parses "!!!x" and "a ? b : c ? ..." by recursion, and evaluates
	// "a+b+..." by recursion too.
	MaxOperators = 256
)

// readSpec reads filename, at most MaxSpecSize bytes of it.
func readSpec(filename string) ([]byte, hcl.Diagnostics) {
	f, err := os.Open(filename)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Failed to read file",
			Detail:   fmt.Sprintf("The configuration file %q could not be read: %s.", filename, err),
		}}
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxSpecSize+1))
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Failed to read file",
			Detail:   fmt.Sprintf("The configuration file %q could not be read: %s.", filename, err),
		}}
	}
	return src, nil
}

// checkLimits reports the first bound src breaks, with the position where
// it does; json selects HCL's JSON syntax. The file is not kept for
// rendering: the offending line may be megabytes long.
func checkLimits(src []byte, filename string, json bool) hcl.Diagnostics {
	if len(src) > MaxSpecSize {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Spec file too large",
			Detail:   fmt.Sprintf("%s is larger than %d MiB, the most a spec may be; it is not read further.", filename, MaxSpecSize>>20),
			Subject:  &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	sc := limitScanner{src: src}
	if json {
		sc.json()
	} else {
		sc.native()
	}
	if sc.problem == "" {
		return nil
	}
	pos := position(src, sc.at)
	detail := fmt.Sprintf("Brackets, braces, parentheses, strings and interpolations nest more than %d levels deep here; "+
		"no spec needs that many, and deeper nesting could exhaust the parser.", MaxNesting)
	switch sc.problem {
	case "List too long":
		detail = fmt.Sprintf("The list or object that starts here holds more than %d items, the most a spec may have in one.", MaxListItems)
	case "Expression too complex":
		detail = fmt.Sprintf("One expression holds more than %d operators or template directives here; "+
			"no spec needs that many, and more could exhaust the parser.", MaxOperators)
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  sc.problem,
		Detail:   detail,
		Subject:  &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: pos.Byte + 1}},
	}}
}

// position is the line and column (in bytes, 1-based) of offset off.
func position(src []byte, off int) hcl.Pos {
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	col := off - (bytes.LastIndexByte(src[:off], '\n') + 1) + 1
	return hcl.Pos{Line: line, Column: col, Byte: off}
}

// frame is one open level: a bracket ('(', '[', '{'), an interpolation
// ('$'), a quoted string ('"') or a heredoc ('<', ending at the line id).
type frame struct {
	kind  byte
	start int
	items int
	ops   int // operators and directives since the last separator
	id    []byte
}

// limitScanner walks a spec's bytes as HCL's lexer would, as far as
// nesting goes: comments and the text of strings and heredocs do not
// count, interpolations inside them do. Syntax errors are left to HCL.
type limitScanner struct {
	src     []byte
	root    frame // the file's top level, below every open frame
	stack   []frame
	problem string // "" while every bound holds
	at      int    // where the first bound broke
}

func (sc *limitScanner) push(kind byte, at int) bool {
	if len(sc.stack) >= MaxNesting {
		sc.problem, sc.at = "Spec nested too deeply", at
		return false
	}
	sc.stack = append(sc.stack, frame{kind: kind, start: at})
	return true
}

func (sc *limitScanner) pop() {
	if len(sc.stack) > 0 {
		sc.stack = sc.stack[:len(sc.stack)-1]
	}
}

func (sc *limitScanner) top() byte {
	if len(sc.stack) == 0 {
		return 0
	}
	return sc.stack[len(sc.stack)-1].kind
}

func (sc *limitScanner) inner() *frame {
	if len(sc.stack) == 0 {
		return &sc.root
	}
	return &sc.stack[len(sc.stack)-1]
}

// op counts an operator or template directive at i in the innermost frame.
func (sc *limitScanner) op(i int) bool {
	f := sc.inner()
	if f.ops++; f.ops > MaxOperators {
		sc.problem, sc.at = "Expression too complex", i
		return false
	}
	return true
}

// item counts a separator of the innermost bracket.
func (sc *limitScanner) item() bool {
	f := sc.inner()
	f.ops = 0
	if len(sc.stack) == 0 {
		return true
	}
	if f.items++; f.items >= MaxListItems {
		sc.problem, sc.at = "List too long", f.start
		return false
	}
	return true
}

// native scans HCL native syntax.
func (sc *limitScanner) native() {
	src := sc.src
	for i := 0; i < len(src); {
		var ok bool
		switch sc.top() {
		case '"':
			i, ok = sc.quoted(i)
		case '<':
			i, ok = sc.heredoc(i)
		default:
			i, ok = sc.code(i)
		}
		if !ok {
			return
		}
	}
}

// code scans one token of expressions and bodies from i.
func (sc *limitScanner) code(i int) (int, bool) {
	src := sc.src
	c := src[i]
	switch {
	case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
		return lineEnd(src, i), true
	case c == '/' && i+1 < len(src) && src[i+1] == '*':
		if e := bytes.Index(src[i+2:], []byte("*/")); e >= 0 {
			return i + 2 + e + 2, true
		}
		return len(src), true
	case c == '"':
		return i + 1, sc.push('"', i)
	case c == '<' && i+1 < len(src) && src[i+1] == '<':
		return sc.heredocStart(i)
	case c == '(' || c == '[' || c == '{':
		return i + 1, sc.push(c, i)
	case c == ')' || c == ']' || c == '}':
		sc.pop()
	case c == ',':
		return i + 1, sc.item()
	case c == '\n' && (sc.top() == 0 || sc.top() == '{'):
		sc.inner().ops = 0 // a newline ends an attribute or object item
	case isOperatorByte(c):
		return i + 1, sc.op(i)
	}
	return i + 1, true
}

// quoted scans a quoted string's text from i.
func (sc *limitScanner) quoted(i int) (int, bool) {
	src := sc.src
	switch c := src[i]; {
	case c == '\\':
		return i + 2, true
	case c == '"', c == '\n':
		sc.pop() // a newline ends an unterminated string; HCL reports it
		return i + 1, true
	default:
		return sc.template(i)
	}
}

// template handles the escapes and interpolations of string and heredoc
// text at i.
func (sc *limitScanner) template(i int) (int, bool) {
	src := sc.src
	c := src[i]
	if (c == '$' || c == '%') && i+1 < len(src) {
		switch src[i+1] {
		case c: // $${ and %%{ are literal
			return i + 2, true
		case '{':
			if c == '%' && !sc.op(i) {
				return i, false
			}
			return i + 2, sc.push('$', i)
		}
	}
	return i + 1, true
}

// heredocStart opens a heredoc at "<<ID" or "<<-ID" followed by a newline.
func (sc *limitScanner) heredocStart(i int) (int, bool) {
	src := sc.src
	j := i + 2
	if j < len(src) && src[j] == '-' {
		j++
	}
	k := j
	for k < len(src) && (isIdentByte(src[k])) {
		k++
	}
	if k == j || k >= len(src) || (src[k] != '\n' && src[k] != '\r') {
		return i + 2, true // not a heredoc; HCL says what it is
	}
	if !sc.push('<', i) {
		return k, false
	}
	sc.stack[len(sc.stack)-1].id = src[j:k]
	return lineEnd(src, k) + 1, true
}

// heredoc scans a heredoc's text from i; at a line's start, a line that
// is only the heredoc's id ends it.
func (sc *limitScanner) heredoc(i int) (int, bool) {
	src := sc.src
	if i == 0 || src[i-1] == '\n' {
		e := lineEnd(src, i)
		if bytes.Equal(bytes.TrimSpace(src[i:e]), sc.stack[len(sc.stack)-1].id) {
			sc.pop()
			return e, true
		}
	}
	return sc.template(i)
}

// json scans HCL's JSON syntax. Strings may hold templates, which HCL
// parses in turn: their brackets count too, within the string.
func (sc *limitScanner) json() {
	src := sc.src
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			if i = sc.jsonString(i); sc.problem != "" {
				return
			}
		case '[', '{':
			if !sc.push(c, i) {
				return
			}
		case ']', '}':
			sc.pop()
		case ',':
			if !sc.item() {
				return
			}
		}
	}
}

// jsonString scans the string opening at i and returns where it ends.
// HCL parses the string as a template: outside interpolations its
// brackets are text, inside them they nest.
func (sc *limitScanner) jsonString(i int) int {
	src := sc.src
	base := len(sc.stack)
	defer func() { sc.stack = sc.stack[:min(base, len(sc.stack))] }()
	for i++; i < len(src); i++ {
		c := src[i]
		inside := len(sc.stack) > base
		switch {
		case c == '\\':
			i++
		case c == '"':
			return i
		case !inside && (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == c:
			i++ // $${ and %%{ are literal
		case !inside && (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
			if (c == '%' && !sc.op(i)) || !sc.push('$', i) {
				return i
			}
			i++
		case !inside:
		case c == '(' || c == '[' || c == '{':
			if !sc.push(c, i) {
				return i
			}
		case c == ')' || c == ']' || c == '}':
			sc.pop()
		case c == ',':
			sc.inner().ops = 0
		case isOperatorByte(c):
			if !sc.op(i) {
				return i
			}
		}
	}
	return i
}

func lineEnd(src []byte, i int) int {
	if e := bytes.IndexByte(src[i:], '\n'); e >= 0 {
		return i + e
	}
	return len(src)
}

// isOperatorByte reports the bytes that begin an HCL operator. A '-'
// inside an identifier counts too: harmless, as no real expression has
// hundreds of them between separators.
func isOperatorByte(c byte) bool {
	switch c {
	case '!', '-', '+', '*', '/', '%', '?', '<', '>', '=', '&', '|':
		return true
	}
	return false
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
