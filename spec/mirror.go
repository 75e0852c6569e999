package spec

import (
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
	var out []*Mirror
	seen := map[string]hcl.Range{}
	for _, raw := range raws {
		if !v.blockName("mirror", raw.Name, raw.NameAt, seen) {
			continue
		}
		m := &Mirror{Name: raw.Name, Range: raw.DefRange}
		// The mirror is kept even when its url is bad, so that images
		// naming it do not report a second, misleading problem.
		out = append(out, m)
		if !present(at(raw.Body, "url")) {
			continue
		}
		u, err := v.location(raw.URL, mirrorSchemes, true)
		if err != nil {
			v.errorf(at(raw.Body, "url"), "Invalid mirror URL", "The url of mirror %q is not usable: %s.", raw.Name, err)
			continue
		}
		m.URL = u
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
