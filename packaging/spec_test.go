package packaging

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// blockStart is a commented-out example block's first line, "# image "x" {".
var blockStart = regexp.MustCompile(`^# [a-z_]+( "[^"]*")? \{$`)

// uncomment returns the default spec with its commented examples enabled,
// so the examples cannot rot while the shipped file stays image-free.
func uncomment(src string) string {
	var out []string
	in := false
	for _, line := range strings.Split(src, "\n") {
		switch {
		case !in && blockStart.MatchString(line):
			in = true
			line = strings.TrimPrefix(line, "# ")
		case in && line == "# }":
			in = false
			line = "}"
		case in:
			line = strings.TrimPrefix(line, "#")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestDefaultSpec validates the shipped /etc/prestaged/spec.hcl as is and
// with every commented example enabled.
func TestDefaultSpec(t *testing.T) {
	b := artifacts.Get(t)
	src, err := os.ReadFile("spec.hcl")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, spec string
		blocks     int // uncommented blocks
	}{
		{"as shipped", string(src), 0},
		{"examples enabled", uncomment(string(src)), 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := regexp.MustCompile(`(?m)^[a-z_]+( "[^"]*")? \{$`).FindAllString(tt.spec, -1); len(got) != tt.blocks {
				t.Fatalf("%d blocks %q, want %d", len(got), got, tt.blocks)
			}
			path := filepath.Join(t.TempDir(), "spec.hcl")
			if err := os.WriteFile(path, []byte(tt.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, b.binary, "validate", path)
		})
	}
}
