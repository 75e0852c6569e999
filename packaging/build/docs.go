package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// genDocs has the binary write its man pages and completions into dir
// (`prestaged gen-docs`), then compresses the pages as Debian policy asks,
// with gzip headers that carry no name or time so builds are reproducible.
func genDocs(ctx context.Context, binary, dir string, epoch time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	man := filepath.Join(dir, "man")
	cmd := exec.CommandContext(ctx, binary, "gen-docs", "--man", man, "--completions", filepath.Join(dir, "completions"))
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(epoch.Unix(), 10))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s gen-docs: %w\n%s", binary, err, out)
	}
	pages, err := filepath.Glob(filepath.Join(man, "*.1"))
	if err != nil || len(pages) == 0 {
		return fmt.Errorf("gen-docs wrote no man page in %s", man)
	}
	for _, p := range pages {
		if err := gzipFile(p); err != nil {
			return err
		}
	}
	return nil
}

// gzipFile replaces path by path.gz, compressed at gzip -9n.
func gzipFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(path+".gz", buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Remove(path)
}

// writeChangelog writes the chglog file nfpm turns into the Debian
// changelog.Debian.gz and the RPM %changelog: one entry for this build,
// dated at the commit. semver is the entry's version as that format wants
// it (dpkg's full version for the .deb; rpm's template parses it as semver).
func writeChangelog(path, semver, describe, maintainer string, epoch time.Time) error {
	note := fmt.Sprintf("Built from prestaged %s (see its git log).", strings.TrimSpace(describe))
	y := fmt.Sprintf("- semver: %q\n  date: %s\n  packager: %q\n  deb:\n    urgency: low\n    distributions: [unstable]\n  changes:\n    - note: %q\n",
		semver, epoch.UTC().Format(time.RFC3339), maintainer, note)
	return os.WriteFile(path, []byte(y), 0o644)
}

// commitTime is SOURCE_DATE_EPOCH, which the Makefile sets from the commit,
// or else the commit's time read from git: every timestamp in the packages
// is this one.
func commitTime(ctx context.Context) (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		out, err := exec.CommandContext(ctx, "git", "log", "-1", "--format=%ct").Output()
		if err != nil {
			return time.Time{}, fmt.Errorf("no SOURCE_DATE_EPOCH and no git commit time: %w", err)
		}
		s = strings.TrimSpace(string(out))
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}
