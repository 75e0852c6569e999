// Package examples_test proves that every example spec parses and validates,
// and that the quickstart's mirror holds the bytes its spec pins.
package examples_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

func TestExamplesParse(t *testing.T) {
	for _, f := range testutil.Files(t, "*.hcl") {
		t.Run(f, func(t *testing.T) {
			_, diags := spec.Parse(f)
			if len(diags.Diagnostics) > 0 {
				var buf bytes.Buffer
				_ = spec.Render(&buf, diags, false)
				t.Errorf("%s has diagnostics:\n%s", f, buf.String())
			}
		})
	}
}

// TestQuickstartMirror checks that the committed demo image matches the
// quickstart spec and that the quickstart writes only under .quickstart/.
func TestQuickstartMirror(t *testing.T) {
	s, diags := spec.Parse("quickstart.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	img := s.Images[0]
	f, err := os.Open(filepath.Join("mirror", img.Path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, n, err := digest.Of(img.Digest.Algo(), f)
	if err != nil {
		t.Fatal(err)
	}
	want := struct {
		Digest string
		Size   int64
	}{img.Digest.String(), img.Size}
	got := struct {
		Digest string
		Size   int64
	}{d.String(), n}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mirror/%s does not match quickstart.hcl (-want +got):\n%s", img.Path, diff)
	}
	top, err := filepath.Abs("../.quickstart")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{s.Store, img.Install} {
		if rel, err := filepath.Rel(top, p); err != nil || !filepath.IsLocal(rel) {
			t.Errorf("%s is outside %s", p, top)
		}
	}
}
