package testutil

import (
	"path/filepath"
	"testing"
)

// Files are the files matching any of patterns. It fails the test when
// none match, so a test over a directory cannot pass by finding nothing.
func Files(t testing.TB, patterns ...string) []string {
	t.Helper()
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			t.Fatalf("pattern %s: %v", p, err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no files match %v", patterns)
	}
	return files
}
