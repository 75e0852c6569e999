package spec

import (
	"os"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// FuzzParseBytes: any bytes, as native HCL or as JSON, give a spec or
// diagnostics; never a panic, never a hang.
func FuzzParseBytes(f *testing.F) {
	for _, p := range testutil.Files(f, "../examples/*.hcl", "testdata/good/*", "testdata/bad/*") {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, false)
		}
	}
	f.Add([]byte(`{"store": "/s", "image": {"a": {"sha256": "00", "size": 1}}}`), true)
	f.Fuzz(func(t *testing.T, src []byte, json bool) {
		name := "/etc/prestaged/spec.hcl"
		if json {
			name = "/etc/prestaged/spec.json"
		}
		s, diags := ParseBytes(src, name)
		if s == nil && !diags.HasErrors() {
			t.Fatalf("no spec and no error for %q", src)
		}
	})
}
