// Command build writes prestaged's .deb and .rpm with the nfpm library, so a
// release needs neither dpkg-deb nor rpmbuild:
//
//	go run ./packaging/build -version $(git describe --tags --always --dirty) \
//	    -commits $(git rev-list --count HEAD) -binary dist/prestaged -out dist/
//
// It reads packaging/nfpm.yaml, turns the git description into a version
// dpkg and rpm both accept and order, generates from the binary the
// `--help` reference, a man page per verb and the shell completions, lists
// the licence of every module compiled in as the copyright file, writes the
// changelog, and writes dist/prestaged_<version>_amd64.deb and
// dist/prestaged-<version>-<release>.x86_64.rpm with every timestamp at
// SOURCE_DATE_EPOCH (else the commit's time), so one commit gives the same
// bytes.
// It is a build tool: product code never imports it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	_ "github.com/goreleaser/nfpm/v2/deb" // registers the "deb" packager
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the "rpm" packager
)

// options are the command line.
type options struct {
	describe string // git describe output
	commits  int    // git rev-list --count HEAD
	binary   string
	config   string
	out      string
}

func main() {
	var o options
	flag.StringVar(&o.describe, "version", "", "version, as printed by `git describe --tags --always --dirty`")
	flag.IntVar(&o.commits, "commits", 0, "commits in the history, as printed by `git rev-list --count HEAD`; orders untagged versions")
	flag.StringVar(&o.binary, "binary", "dist/prestaged", "the static prestaged binary (linux/amd64)")
	flag.StringVar(&o.config, "config", "packaging/nfpm.yaml", "nfpm configuration; relative sources are resolved against its directory")
	flag.StringVar(&o.out, "out", "dist", "directory the packages are written to")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	paths, err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "packaging/build:", err)
		os.Exit(1)
	}
	for _, p := range paths {
		fmt.Println(p)
	}
}

// run builds every package and returns the paths written.
func run(ctx context.Context, o options) ([]string, error) {
	version, err := packageVersion(o.describe, o.commits)
	if err != nil {
		return nil, err
	}
	epoch, err := commitTime(ctx)
	if err != nil {
		return nil, err
	}
	binary, err := filepath.Abs(o.binary)
	if err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	docdir, err := os.MkdirTemp("", "prestaged-doc-")
	if err != nil {
		return nil, fmt.Errorf("doc dir: %w", err)
	}
	defer os.RemoveAll(docdir)
	// The module whose ./cmd/prestaged the binary is: the configuration's parent.
	repo := filepath.Join(filepath.Dir(o.config), "..")
	if err := writeDocs(ctx, binary, repo, docdir, epoch); err != nil {
		return nil, err
	}
	vars := map[string]string{"VERSION": version, "BINARY": binary, "DOCDIR": docdir}
	cfg, err := loadConfig(o.config, vars)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, fmt.Errorf("output dir: %w", err)
	}
	var written []string
	for _, t := range targets(version, cfg.Release) {
		changelog := filepath.Join(docdir, t.format+"-changelog.yml")
		if err := writeChangelog(changelog, t.changelogVersion, o.describe, cfg.Maintainer, epoch); err != nil {
			return nil, fmt.Errorf("changelog: %w", err)
		}
		p := filepath.Join(o.out, t.file)
		if err := writePackage(cfg, t, p, changelog, epoch); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	return written, nil
}

// writeDocs writes what nfpm.yaml takes from ${DOCDIR}: the --help
// reference, the man pages and completions, and the copyright file that
// lists every module compiled into the binary.
func writeDocs(ctx context.Context, binary, repo, docdir string, epoch time.Time) error {
	help, err := helpReference(ctx, binary)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(docdir, "prestaged-help.txt"), help, 0o644); err != nil {
		return fmt.Errorf("help reference: %w", err)
	}
	if err := genDocs(ctx, binary, docdir, epoch); err != nil {
		return err
	}
	mods, err := compiledModules(ctx, repo)
	if err != nil {
		return err
	}
	lics, err := readLicences(mods)
	if err != nil {
		return err
	}
	for file, elsewhere := range map[string]map[string]string{"copyright": debianTexts, "copyright.rpm": rpmTexts} {
		var copyright bytes.Buffer
		if err := writeCopyright(&copyright, lics, elsewhere); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(docdir, file), copyright.Bytes(), 0o644); err != nil {
			return fmt.Errorf("copyright: %w", err)
		}
	}
	return nil
}
