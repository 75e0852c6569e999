package main

import (
	"fmt"
	"io"
	"strings"
)

// standalone are licences whose text is the same for every module, written
// once as a stand-alone paragraph that each module's paragraph names.
var standalone = []string{"Apache-2.0", "MPL-2.0"}

// Where a host already has a shared licence's text, the copyright file
// points there instead of repeating it, as Debian policy asks.
var (
	debianTexts = map[string]string{
		"Apache-2.0": "On Debian systems, the full text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.",
		"MPL-2.0":    "On Debian systems, the full text of the Mozilla Public License 2.0 is in /usr/share/common-licenses/MPL-2.0.",
	}
	rpmTexts = map[string]string{
		"Apache-2.0": "The full text of the Apache License 2.0 is in /usr/share/licenses/prestaged/LICENSE.",
	}
)

// writeCopyright writes /usr/share/doc/prestaged/copyright in the
// machine-readable format (DEP-5): prestaged itself under "Files: *", then
// one paragraph per compiled-in module with its copyright lines and
// licence, then the shared licences, each as its text or, when elsewhere
// names it, as a pointer to where the host keeps it.
func writeCopyright(w io.Writer, lics []licence, elsewhere map[string]string) error {
	var own *licence
	for i, l := range lics {
		if l.mod.Path == mainModule {
			own = &lics[i]
		}
	}
	if own == nil {
		return fmt.Errorf("copyright: %s is not among the compiled modules", mainModule)
	}
	// prestaged's own LICENSE is the Apache-2.0 text the others refer to.
	shared := map[string]string{own.spdx: own.text}
	for _, l := range lics {
		if isStandalone(l.spdx) && shared[l.spdx] == "" {
			shared[l.spdx] = l.text
		}
	}
	fmt.Fprintf(w, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
	fmt.Fprintf(w, "Upstream-Name: prestaged\nSource: https://github.com/prestaged/prestaged\n")
	field(w, "Comment", "/usr/bin/prestaged is one statically linked Go binary. Besides prestaged it contains the Go modules below, listed by `go list -deps ./cmd/prestaged` when the package was built, each with the licence file it ships.")
	fmt.Fprintf(w, "\nFiles: *\nCopyright: the prestaged authors\nLicense: %s\n", own.spdx)
	for _, l := range lics {
		if l.mod.Path == mainModule {
			continue
		}
		writeModule(w, l)
	}
	for _, id := range standalone {
		if text, ok := shared[id]; ok {
			fmt.Fprintf(w, "\nLicense: %s\n", id)
			if ref, ok := elsewhere[id]; ok {
				text = ref
			}
			body(w, text)
		}
	}
	return nil
}

func writeModule(w io.Writer, l licence) {
	fmt.Fprintf(w, "\nFiles: %s/*\n", l.mod.Path)
	copyright := l.copyright
	if len(copyright) == 0 {
		copyright = []string{"the authors of " + l.mod.Path}
	}
	field(w, "Copyright", strings.Join(copyright, "\n"))
	fmt.Fprintf(w, "License: %s\n", l.spdx)
	if !isStandalone(l.spdx) {
		body(w, withoutApacheText(l.text))
	}
	comment := "Version " + l.mod.Version + "."
	if l.mod.Path == goModule {
		comment = "The Go runtime and standard library, " + l.mod.Version + "."
	}
	if l.mod.Replace != "" {
		comment += " Built from " + l.mod.Replace + " in the prestaged source, which go.mod puts in its place."
	}
	if l.notice != "" {
		comment += "\n\nNOTICE:\n" + l.notice
	}
	field(w, "Comment", strings.TrimSpace(comment))
}

func isStandalone(spdx string) bool {
	for _, id := range standalone {
		if spdx == id {
			return true
		}
	}
	return false
}

// field writes a DEP-5 field whose value may span lines.
func field(w io.Writer, name, value string) {
	lines := strings.Split(value, "\n")
	fmt.Fprintf(w, "%s: %s\n", name, strings.TrimSpace(lines[0]))
	body(w, strings.Join(lines[1:], "\n"))
}

// body writes continuation lines: indented by one space, an empty line as
// " .", as the format requires.
func body(w io.Writer, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(strings.ReplaceAll(line, "\t", "        "), " \r")
		if line == "" {
			fmt.Fprintln(w, " .")
			continue
		}
		fmt.Fprintln(w, " "+line)
	}
}

// withoutApacheText replaces the Apache License 2.0 terms (and their
// appendix) inside a licence file that combines them with another licence
// by a pointer to the stand-alone Apache-2.0 paragraph, so the terms appear
// once.
func withoutApacheText(text string) string {
	terms := strings.Index(text, "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION")
	if terms < 0 {
		return text
	}
	start := strings.LastIndex(text[:terms], "Apache License")
	end := strings.Index(text[terms:], "END OF TERMS AND CONDITIONS")
	if start < 0 || end < 0 {
		return text
	}
	start = strings.LastIndex(text[:start], "\n") + 1
	end += terms + len("END OF TERMS AND CONDITIONS")
	if a := strings.Index(text[end:], "APPENDIX: How to apply the Apache License"); a >= 0 {
		if l := strings.Index(text[end+a:], "limitations under the License."); l >= 0 {
			end += a + l + len("limitations under the License.")
		}
	}
	return text[:start] + "[The Apache License 2.0: see the License: Apache-2.0 paragraph.]" + text[end:]
}
