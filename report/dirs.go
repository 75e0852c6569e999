package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/prestaged/prestaged/spec"
)

// MissingDirs are the directories apply would create to install at the
// given paths: each install path's parent that does not exist yet, once.
func MissingDirs(installs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range installs {
		dir := filepath.Dir(p)
		if seen[dir] || p == "" {
			continue
		}
		seen[dir] = true
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			out = append(out, dir)
		}
	}
	sort.Strings(out)
	return out
}

// StrictProblems are what validate --strict refuses besides the spec's
// own errors: install directories apply would create (as root, anywhere).
func StrictProblems(s *spec.Spec) []spec.Problem {
	var installs []string
	for _, img := range s.Images {
		installs = append(installs, img.Install)
	}
	var out []spec.Problem
	for _, d := range MissingDirs(installs) {
		out = append(out, spec.Problem{Severity: "error", Summary: "Missing install directory",
			Detail: fmt.Sprintf("%s does not exist; apply would create it. Create it, or fix the install path.", d), Filename: s.Filename})
	}
	return out
}

// RenderProblems writes problems found besides the spec's diagnostics as
// validate's text does, unless they go in its JSON.
func RenderProblems(w io.Writer, problems []spec.Problem, asJSON bool) {
	if asJSON {
		return
	}
	for _, p := range problems {
		fmt.Fprintf(w, "Error: %s\n\n%s\n\n", p.Summary, p.Detail)
	}
}
