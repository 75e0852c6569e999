package spec

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// item is one string of a list attribute with its own range, so that a
// diagnostic can point at the offending element rather than the whole list.
type item struct {
	value string
	at    hcl.Range
}

// stringList decodes a list-of-strings attribute element by element.
func (v *validator) stringList(expr hcl.Expression, at hcl.Range, attr string) []item {
	if !present(at) {
		return nil
	}
	exprs, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		v.errorf(at, "Invalid "+attr, "%s must be a list of strings, such as [\"a\", \"b\"].", attr)
		v.failed = append(v.failed, at)
		return nil
	}
	items := make([]item, 0, len(exprs))
	for _, e := range exprs {
		var s string
		if d := gohcl.DecodeExpression(e, nil, &s); d.HasErrors() {
			v.diags = append(v.diags, d...)
			continue
		}
		items = append(items, item{value: s, at: e.Range()})
	}
	return items
}

// location turns a URL or a path into an absolute URL with one of schemes.
// A string with no scheme is a path, relative to the spec file's directory,
// and becomes a file:// URL. dir says the location is a directory, whose URL
// must end with "/" so that relative image paths resolve beneath it.
func (v *validator) location(raw string, schemes []string, dir bool) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("it must not be empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme == "" {
		u = &url.URL{Scheme: "file", Path: filepath.ToSlash(v.path(raw))}
	}
	if !slices.Contains(schemes, u.Scheme) {
		return "", fmt.Errorf("scheme %q is not supported; use %s", u.Scheme, strings.Join(schemes, ", "))
	}
	switch {
	case u.Scheme == "file" && (u.Opaque != "" || !path.IsAbs(u.Path)):
		return "", fmt.Errorf("a file URL needs an absolute path, as in file:///srv/images/")
	case u.Scheme == "file" && u.Host != "" && u.Host != "localhost":
		return "", fmt.Errorf("a file URL cannot name a remote host (%q)", u.Host)
	case u.Scheme != "file" && u.Host == "":
		return "", fmt.Errorf("a %s URL needs a host", u.Scheme)
	case dir && (u.RawQuery != "" || u.Fragment != ""):
		return "", fmt.Errorf("a query or fragment would not survive appending image paths")
	}
	if u.Scheme == "file" {
		u.Host = ""
	}
	if dir && !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u.String(), nil
}

// locationAt checks the location written at where, so that every URL
// attribute words its diagnostic alike; it is "" when not written or not usable.
func (v *validator) locationAt(where hcl.Range, raw string, schemes []string, dir bool, summary, subject string) string {
	if !present(where) {
		return ""
	}
	u, err := v.location(raw, schemes, dir)
	if err != nil {
		v.errorf(where, summary, "%s is not usable: %s.", subject, err)
	}
	return u
}

// atLeastOne is the count n that body writes as attr, or def when it writes
// none or one below 1, which is reported with detail (formatting n).
func (v *validator) atLeastOne(body hcl.Body, attr string, n, def int, detail string) int {
	where := at(body, attr)
	if !present(where) {
		return def
	}
	if n < 1 {
		v.errorf(where, "Invalid "+attr, detail, n)
		return def
	}
	return n
}

// at is the range of the value of the attribute name as body writes it, or
// the zero range (not present) when body does not write it. gohcl decodes
// values only, so a written zero and an omitted attribute are told apart
// here. A body with blocks reports them as errors, but its attributes are
// all returned.
func at(body hcl.Body, name string) hcl.Range {
	if body == nil {
		return hcl.Range{}
	}
	attrs, _ := body.JustAttributes()
	if a, ok := attrs[name]; ok {
		return a.Expr.Range()
	}
	return hcl.Range{}
}
