package spec

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// rawSpec is the first decoding stage: the file's shape as gohcl sees it.
// Each raw block keeps its Body, where at finds whether an attribute was
// written and where (defaults told apart from explicit zero values).
type rawSpec struct {
	Store        string       `hcl:"store,optional"`
	StallTimeout string       `hcl:"stall_timeout,optional"`
	Parallel     int          `hcl:"parallel,optional"`
	Peer         *rawPeer     `hcl:"peer,block"`
	Mirrors      []*rawMirror `hcl:"mirror,block"`
	Trusts       []*rawTrust  `hcl:"trust,block"`
	Hooks        []*rawHook   `hcl:"hook,block"`
	Torrent      *rawTorrent  `hcl:"torrent,block"`
	Images       []*rawImage  `hcl:"image,block"`
	Body         hcl.Body     `hcl:",body"`
}

// Parse reads and validates the spec file at filename (HCL native syntax, or
// HCL's JSON syntax when the name ends in ".json"). On errors the Spec is
// nil and diags holds every problem found, each with a source range; warnings
// may accompany a valid Spec. Render prints diags with snippets of the files
// diags carries. A
// file beyond the bounds in limits.go is refused before it is parsed.
func Parse(filename string) (*Spec, Diagnostics) {
	src, diags := readSpec(filename)
	if diags.HasErrors() {
		return nil, Diagnostics{Diagnostics: diags}
	}
	return ParseBytes(src, filename)
}

// ParseBytes is Parse for a spec already in memory; filename names it in
// diagnostics and its directory anchors relative paths. As with Parse, a
// filename ending in ".json" selects HCL's JSON syntax, for configuration
// management that prefers to emit JSON.
func ParseBytes(src []byte, filename string) (s *Spec, diags Diagnostics) {
	json := strings.HasSuffix(filename, ".json")
	if diags := checkLimits(src, filename, json); diags.HasErrors() {
		return nil, Diagnostics{Diagnostics: diags}
	}
	defer func() {
		if r := recover(); r != nil { // a parser bug must not crash a host
			s, diags = nil, Diagnostics{Diagnostics: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Spec could not be parsed",
				Detail: fmt.Sprintf("The HCL parser failed on %s (%v); please report it with the file.", filename, r)}}}
		}
	}()
	// A fresh parser per call: hclparse caches files by name, and a
	// long-running `serve` must see a spec that changed on disk.
	p := hclparse.NewParser()
	var f *hcl.File
	var found hcl.Diagnostics
	if json {
		f, found = p.ParseJSON(src, filename)
	} else {
		f, found = p.ParseHCL(src, filename)
	}
	s, found = decode(f, found, filename)
	return s, Diagnostics{Diagnostics: found, Files: p.Files()}
}

func decode(f *hcl.File, diags hcl.Diagnostics, filename string) (*Spec, hcl.Diagnostics) {
	if diags.HasErrors() || f == nil {
		return nil, tidy(diags, f) // syntax errors: the body cannot be trusted
	}
	dir, err := filepath.Abs(filepath.Dir(filename))
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot resolve the spec's directory",
			Detail:   fmt.Sprintf("Relative paths in %s cannot be resolved: %s.", filename, err),
		})
	}
	var raw rawSpec
	diags = append(diags, gohcl.DecodeBody(f.Body, nil, &raw)...)
	v := newValidator(dir, diags)
	s := &Spec{Filename: filename}
	v.top(&raw, s)
	s.Peer = v.peer(raw.Peer)
	s.Mirrors = v.mirrors(raw.Mirrors)
	s.Trusts = v.trusts(raw.Trusts)
	s.Hooks = v.hooks(raw.Hooks)
	s.Torrent = v.torrent(raw.Torrent, s.Peer)
	s.Images = v.images(raw.Images, s)
	for _, t := range s.Trusts {
		if t.Subscribe {
			t.Sources = defaultSources(s, true)
		}
	}
	diags = tidy(v.diags, f)
	if diags.HasErrors() {
		return nil, diags
	}
	return s, diags
}

// top validates the top-level attributes.
func (v *validator) top(raw *rawSpec, s *Spec) {
	s.Store = DefaultStore
	if where := at(raw.Body, "store"); present(where) {
		if raw.Store == "" {
			v.errorf(where, "Empty store", "The store directory must not be empty; omit the attribute for %s.", DefaultStore)
		} else {
			s.Store = v.path(raw.Store)
		}
	}
	s.StallTimeout = DefaultStallTimeout
	if where := at(raw.Body, "stall_timeout"); present(where) {
		d, err := time.ParseDuration(raw.StallTimeout)
		switch {
		case err != nil:
			v.errorf(where, "Invalid stall_timeout", "The stall timeout must be a duration such as \"30s\" or \"2m\": %s.", err)
		case d <= 0:
			v.errorf(where, "Invalid stall_timeout", "The stall timeout must be positive, got %s.", raw.StallTimeout)
		default:
			s.StallTimeout = d
		}
	}
	s.Parallel = v.atLeastOne(raw.Body, "parallel", raw.Parallel, DefaultParallel,
		"At least one image must be fetched at a time; parallel must be 1 or more, got %d.")
}

// path makes p absolute against the spec file's directory.
func (v *validator) path(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(v.dir, p)
}
