package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// module is one Go module compiled into the binary.
type module struct {
	Path    string
	Version string
	Dir     string // where its source is: the module cache, or the replacement
	Replace string // the replacement's path when go.mod replaces the module
}

const (
	// mainModule is this repository, whose licence covers "Files: *".
	mainModule = "github.com/prestaged/prestaged"
	// goModule stands for the Go runtime and standard library.
	goModule = "std"
)

var (
	// licenceName is how a module names its licence file.
	licenceName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicense)(\.(txt|md))?$`)
	// noticeName is Apache-2.0's NOTICE, which must travel with the code.
	noticeName = regexp.MustCompile(`(?i)^notice(\.(txt|md))?$`)
	// copyrightLine is a licence file's copyright statement, not the
	// Apache appendix's "[yyyy] [name of copyright owner]" template.
	copyrightLine = regexp.MustCompile(`(?i)^\s*copyright\s+(\(c\)|©|[0-9]{4}|by\s)`)
)

// compiledModules lists the modules whose packages `go build
// ./cmd/prestaged` links for linux/amd64, from the repository at dir, and
// the Go distribution itself (runtime and standard library).
func compiledModules(ctx context.Context, dir string) ([]module, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f",
		"{{with .Module}}{{.Path}}\t{{.Version}}\t{{.Dir}}\t{{with .Replace}}{{.Path}}{{end}}{{end}}", "./cmd/prestaged")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps ./cmd/prestaged: %w: %s", err, stderr.String())
	}
	seen := map[string]bool{}
	var mods []module
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		mods = append(mods, module{Path: f[0], Version: f[1], Dir: f[2], Replace: f[3]})
	}
	root, err := exec.CommandContext(ctx, "go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	if f := strings.Fields(string(root)); len(f) == 2 {
		mods = append(mods, module{Path: goModule, Version: f[1], Dir: f[0]})
	}
	slices.SortFunc(mods, func(a, b module) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

// licence is one module's licence file, read and identified.
type licence struct {
	mod       module
	spdx      string // a DEP-5 licence expression, e.g. "MIT" or "Apache-2.0 and MIT"
	text      string
	copyright []string
	notice    string
}

// readLicences reads every module's licence and NOTICE files, and fails
// naming every module that has none, or one this tool cannot identify.
func readLicences(mods []module) ([]licence, error) {
	var out []licence
	var missing []string
	for _, m := range mods {
		l, err := readLicence(m)
		if err != nil {
			missing = append(missing, err.Error())
			continue
		}
		out = append(out, l)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("licences of the compiled-in modules, which /usr/share/doc/prestaged/copyright must list:\n  %s",
			strings.Join(missing, "\n  "))
	}
	return out, nil
}

func readLicence(m module) (licence, error) {
	entries, err := os.ReadDir(m.Dir)
	if err != nil {
		return licence{}, fmt.Errorf("%s %s: %w", m.Path, m.Version, err)
	}
	l := licence{mod: m}
	var texts []string
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(m.Dir, e.Name()))
		if err != nil {
			return licence{}, fmt.Errorf("%s %s: %w", m.Path, m.Version, err)
		}
		switch {
		case licenceName.MatchString(e.Name()):
			texts = append(texts, strings.TrimSpace(string(b)))
		case noticeName.MatchString(e.Name()):
			l.notice = strings.TrimSpace(string(b))
		}
	}
	if len(texts) == 0 {
		return licence{}, fmt.Errorf("%s %s: no LICENSE or COPYING file in %s", m.Path, m.Version, m.Dir)
	}
	l.text = strings.Join(texts, "\n\n")
	l.spdx = identify(l.text)
	if l.spdx == "" {
		return licence{}, fmt.Errorf("%s %s: licence in %s not recognised; add it to identify()", m.Path, m.Version, m.Dir)
	}
	for _, line := range strings.Split(l.text, "\n") {
		if copyrightLine.MatchString(line) && !slices.Contains(l.copyright, strings.TrimSpace(line)) {
			l.copyright = append(l.copyright, strings.TrimSpace(line))
		}
	}
	return l, nil
}

// markers are phrases that identify a licence text, in DEP-5 short names.
var markers = []struct{ spdx, phrase string }{
	{"Apache-2.0", "Apache License"},
	{"MPL-2.0", "Mozilla Public License"},
	{"Unlicense", "This is free and unencumbered software released into the public domain"},
	{"MIT", "Permission is hereby granted, free of charge"},
	{"ISC", "Permission to use, copy, modify, and/or distribute this software"},
	{"ISC", "Permission to use, copy, modify, and distribute this software for any"},
	{"BSD-3-Clause", "Neither the name"},
	{"BSD-3-Clause", "names of its contributors may be used"},
	{"BSD-2-Clause", "Redistribution and use in source and binary forms"},
}

// identify names the licences a text contains, "" when none is known.
func identify(text string) string {
	flat := strings.Join(strings.Fields(text), " ")
	var ids []string
	for _, mk := range markers {
		if !strings.Contains(flat, mk.phrase) || slices.Contains(ids, mk.spdx) {
			continue
		}
		if mk.spdx == "BSD-2-Clause" && slices.Contains(ids, "BSD-3-Clause") {
			continue
		}
		ids = append(ids, mk.spdx)
	}
	return strings.Join(ids, " and ")
}
