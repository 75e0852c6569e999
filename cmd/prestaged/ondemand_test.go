package main_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestChildBeforeParent: a child whose apply starts before its parent's
// takes the image from the parent all the same: the parent's serve, asked
// for an image its spec names and it does not hold, stages it into its
// store (apply --stage-only), and the child waits for it. The parent's own
// apply then installs from the store.
func TestChildBeforeParent(t *testing.T) {
	parent, image, parentSpec, addr := servingSite(t, "vm", 3<<20, 41)

	child := newSite(t)
	spec := child.childSpec(addr, image)
	mustApply(t, spec, 2)
	if !bytes.Equal(child.installed("vm"), image.content) {
		t.Fatalf("the child did not install the image")
	}
	if parent.installed("vm") != nil {
		t.Errorf("the parent's serve installed the image: it only stages")
	}
	if _, err := os.Stat(parent.path("store", "blobs", "sha256", image.digest())); err != nil {
		t.Errorf("the parent holds no blob: %v", err)
	}
	if r := run(t, "apply", "--json", parentSpec); r.code != 0 || !bytes.Equal(parent.installed("vm"), image.content) || strings.Contains(r.stdout, `"bytes_by_source"`) {
		t.Errorf("the parent's own apply should install from its store, fetching nothing: %s", r)
	}
}

// TestChainFormsFromTheLeaf: in a chain of three whose only apply is the
// leaf's, each serve fetches for its child in turn: the root from the
// mirror, the middle host from the root, the leaf from the middle.
func TestChainFormsFromTheLeaf(t *testing.T) {
	root, image, _, up := servingSite(t, "vm", 2<<20, 43)
	var sites []*site
	for range 2 {
		s := newSite(t)
		spec := s.childSpec(up, image)
		sites = append(sites, s)
		if len(sites) == 1 {
			up = serveAddr(t, spec)
		} else {
			mustApply(t, spec, 2)
		}
	}
	for i, s := range append([]*site{root}, sites[0]) {
		if _, err := os.Stat(s.path("store", "blobs", "sha256", image.digest())); err != nil {
			t.Errorf("host %d of the chain did not stage the image: %v", i, err)
		}
	}
	if !bytes.Equal(sites[1].installed("vm"), image.content) {
		t.Errorf("the leaf did not install the image")
	}
}

// childSpec writes the spec of a host that takes image from its one
// parent at addr only, and returns its path.
func (s *site) childSpec(addr string, image img) string {
	return s.writeSpec(fmt.Sprintf(`store = %q
stall_timeout = "5s"

peer {
  parents = [%q]
}

image %q {
  sha256  = %q
  size    = %d
  install = "images/%s.img"
  sources = ["parents"]
}
`, s.path("store"), addr, image.name, image.digest(), image.length(), image.name))
}
