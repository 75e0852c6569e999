package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	// bareHash is `git describe --always` in a repository without tags.
	bareHash = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	// sinceTag is "<tag>-<commits since>-g<hash>".
	sinceTag = regexp.MustCompile(`^(.+)-([0-9]+)-g([0-9a-f]{4,40})$`)
	// notAllowed are characters outside what both dpkg (upstream version
	// without a revision) and rpm (no '-') accept.
	notAllowed = regexp.MustCompile(`[^A-Za-z0-9.~+]+`)
)

// packageVersion turns `git describe --tags --always --dirty` output into a
// version both dpkg and rpm accept and order sensibly:
//
//	v1.2.3                      -> 1.2.3
//	v1.2.3-rc1                  -> 1.2.3~rc1               (before 1.2.3)
//	v1.2.3-4-gabc1234           -> 1.2.3+4.gabc1234        (after 1.2.3)
//	v1.2.3-4-gabc1234-dirty     -> 1.2.3+4.gabc1234.dirty
//	abc1234 (commit 57)         -> 0.0.0+git57.abc1234     (no tag yet)
//	abc1234-dirty (commit 57)   -> 0.0.0+git57.abc1234.dirty
//
// Without a tag the commit count (`git rev-list --count HEAD`) comes before
// the hash, because hashes are not ordered and a later build must compare
// newer under dpkg and rpm. A tag that does not start with a digit is kept
// as build metadata after 0.0.0, so a package can always be built.
func packageVersion(describe string, commits int) (string, error) {
	s := strings.TrimSpace(describe)
	if s == "" {
		return "", errors.New("empty version: pass -version $(git describe --tags --always --dirty)")
	}
	var meta []string
	s, dirty := strings.CutSuffix(s, "-dirty")
	switch m := sinceTag.FindStringSubmatch(s); {
	case bareHash.MatchString(s):
		if commits <= 0 {
			return "", fmt.Errorf("version %q has no tag: pass -commits $(git rev-list --count HEAD) so untagged builds order", describe)
		}
		s, meta = "", []string{"git" + strconv.Itoa(commits), s}
	case m != nil:
		s, meta = m[1], []string{m[2], "g" + m[3]}
	}
	upstream, pre, _ := strings.Cut(strings.TrimLeft(s, "vV"), "-")
	if upstream == "" || upstream[0] < '0' || upstream[0] > '9' {
		if s != "" {
			meta = append([]string{s}, meta...)
		}
		upstream, pre = "0.0.0", ""
	}
	if dirty {
		meta = append(meta, "dirty")
	}
	v := clean(upstream)
	if pre != "" {
		v += "~" + clean(pre)
	}
	if len(meta) > 0 {
		v += "+" + clean(strings.Join(meta, "."))
	}
	return v, nil
}

// clean replaces runs of characters dpkg or rpm reject with a dot.
func clean(s string) string {
	return strings.Trim(notAllowed.ReplaceAllString(s, "."), ".")
}
