package spec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

type rawMirror struct {
	Name     string    `hcl:"name,label"`
	NameAt   hcl.Range `hcl:"name,label_range"`
	URL      string    `hcl:"url"`
	Body     hcl.Body  `hcl:",body"`
	DefRange hcl.Range `hcl:",def_range"`
}

// mirrorSchemes are the URL schemes fetchers/mirror implements.
var mirrorSchemes = []string{"http", "https", "file"}

func (v *validator) mirrors(raws []*rawMirror) []*Mirror {
	return namedBlocks(v, "mirror", raws, func(r *rawMirror) (string, hcl.Range) { return r.Name, r.NameAt }, v.mirror)
}

// mirror is kept even when its url is bad, so that images naming it do not
// report a second, misleading problem.
func (v *validator) mirror(raw *rawMirror) *Mirror {
	u := v.locationAt(at(raw.Body, "url"), raw.URL, mirrorSchemes, true,
		"Invalid mirror URL", fmt.Sprintf("The url of mirror %q", raw.Name))
	return &Mirror{Name: raw.Name, URL: u, Range: raw.DefRange}
}

// namedBlocks validates each block of a labelled kind whose name is usable
// (blockName), in order.
func namedBlocks[R, T any](v *validator, kind string, raws []R, label func(R) (string, hcl.Range), validate func(R) T) []T {
	var out []T
	seen := map[string]hcl.Range{}
	for _, raw := range raws {
		if name, at := label(raw); v.blockName(kind, name, at, seen) {
			out = append(out, validate(raw))
		}
	}
	return out
}

// blockName checks a mirror or trust label, which other attributes refer to
// by name, and records it in seen. It reports whether the block is usable.
func (v *validator) blockName(kind, name string, at hcl.Range, seen map[string]hcl.Range) bool {
	if !hclsyntax.ValidIdentifier(name) {
		v.errorf(at, "Invalid "+kind+" name", "%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name)
		return false
	}
	if first, dup := seen[name]; dup {
		v.errorf(at, "Duplicate "+kind+" block", "A %s named %q was already defined at %s. Names must be unique.", kind, name, first)
		return false
	}
	seen[name] = at
	return true
}
