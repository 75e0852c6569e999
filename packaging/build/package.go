package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
)

// target is one package format and the file name it is written to.
type target struct {
	format string
	file   string
	// changelogVersion is the changelog entry's version: dpkg's full
	// version for the .deb; a semver for the .rpm, whose %changelog
	// template parses it (rpm's "~" becomes semver's "-").
	changelogVersion string
}

// targets names the packages the way each distribution does: the Debian
// convention for the .deb (the Debian revision only inside it), and
// name-version-release.arch for the .rpm.
func targets(version, release string) []target {
	return []target{
		{format: "deb", file: fmt.Sprintf("prestaged_%s_amd64.deb", version), changelogVersion: version + "-" + release},
		{format: "rpm", file: fmt.Sprintf("prestaged-%s-%s.x86_64.rpm", version, release), changelogVersion: strings.Replace(version, "~", "-", 1)},
	}
}

// loadConfig reads the nfpm configuration, expanding ${NAME} from vars
// only (never from the environment, so builds are reproducible), and makes
// relative sources and scripts absolute against the file's directory.
func loadConfig(path string, vars map[string]string) (*nfpm.Config, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("nfpm config: %w", err)
	}
	cfg, err := nfpm.ParseFileWithEnvMapping(path, func(name string) string { return vars[name] })
	if err != nil {
		return nil, fmt.Errorf("nfpm config %s: %w", path, err)
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for _, c := range cfg.Contents {
		c.Source = abs(c.Source)
	}
	scripts := []*nfpm.Scripts{&cfg.Scripts}
	for _, o := range cfg.Overrides {
		scripts = append(scripts, &o.Scripts)
	}
	for _, s := range scripts {
		s.PreInstall, s.PostInstall = abs(s.PreInstall), abs(s.PostInstall)
		s.PreRemove, s.PostRemove = abs(s.PreRemove), abs(s.PostRemove)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("nfpm config %s: %w", path, err)
	}
	return &cfg, nil
}

// writePackage writes one format to path, through a temporary file so a
// failed build leaves no truncated package behind. Every file and header
// carries the commit's time, so the same commit gives the same bytes.
func writePackage(cfg *nfpm.Config, t target, path, changelog string, mtime time.Time) error {
	format := t.format
	info, err := cfg.Get(format)
	if err != nil {
		return fmt.Errorf("%s: %w", format, err)
	}
	info.Changelog = changelog
	info.MTime = mtime
	info = nfpm.WithDefaults(info)
	pkg, err := nfpm.Get(format)
	if err != nil {
		return fmt.Errorf("%s: %w", format, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("%s: %w", format, err)
	}
	defer os.Remove(tmp.Name())
	info.Target = path
	if err := pkg.Package(info, tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("%s package: %w", format, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", format, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", format, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("%s: %w", format, err)
	}
	return nil
}
