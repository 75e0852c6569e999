package main_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// The CLI tests drive the real binary, built once by TestMain, the way
// configuration management and operators run it.

var prestaged string // path of the binary under test

func TestMain(m *testing.M) {
	testutil.Main(m, func() error {
		dir, err := testutil.TempDir("prestaged-cli-test-")
		if err != nil {
			return err
		}
		prestaged = filepath.Join(dir, "prestaged")
		return testutil.GoBuild(prestaged, testutil.PrestagedPkg)
	})
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs prestaged with args to completion.
func run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(prestaged, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running prestaged %v: %v", args, err)
	}
	return r
}

// start runs prestaged in the background; wait collects its result (exit
// code -1 when a signal killed it).
func start(t *testing.T, args ...string) (cmd *exec.Cmd, wait func() result) {
	t.Helper()
	cmd = exec.Command(prestaged, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var r result
	wait = func() result {
		once.Do(func() {
			err := cmd.Wait()
			r = result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
			if err != nil && r.code == 0 {
				t.Errorf("waiting for prestaged: %v", err)
			}
		})
		return r
	}
	t.Cleanup(func() { cmd.Process.Kill(); wait() })
	return cmd, wait
}

// img is one image of a test spec.
type img struct {
	name    string
	content []byte
	sha     string // defaults to the content's sha256
	size    int64  // defaults to len(content)
}

func (i img) digest() string {
	if i.sha != "" {
		return i.sha
	}
	s := sha256.Sum256(i.content)
	return hex.EncodeToString(s[:])
}

func (i img) length() int64 {
	if i.size != 0 {
		return i.size
	}
	return int64(len(i.content))
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 11))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// site is a host under test: a spec file in dir, its store in dir/store,
// images installed in dir/images, and a mirror directory dir/mirror.
type site struct {
	t   *testing.T
	dir string
}

func newSite(t *testing.T) *site {
	dir := t.TempDir()
	for _, d := range []string{"mirror", "images"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &site{t: t, dir: dir}
}

func (s *site) path(p ...string) string { return filepath.Join(append([]string{s.dir}, p...)...) }

// publish puts images on the file mirror.
func (s *site) publish(images ...img) {
	for _, i := range images {
		if err := os.WriteFile(s.path("mirror", i.name+".img"), i.content, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// publishedSite is a site whose file mirror holds one image, name (n bytes
// from seed), and the spec of a host that installs it, with a sources line
// when sources is set.
func publishedSite(t *testing.T, name string, n int, seed uint64, sources bool) (*site, img, string) {
	s := newSite(t)
	image := img{name: name, content: randomBytes(n, seed)}
	s.publish(image)
	return s, image, s.spec("", sources, image)
}

// editSpec rewrites the spec file at path with edit.
func editSpec(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	testutil.Must(t, err)
	testutil.Must(t, os.WriteFile(path, []byte(edit(string(b))), 0o644))
}

// spec writes spec.hcl with the mirror at url ("" for the file mirror) and
// returns its path. With no sources line, images use the default sources.
func (s *site) spec(url string, sources bool, images ...img) string {
	if url == "" {
		url = "mirror/"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "store = %q\nstall_timeout = \"5s\"\n\nmirror \"m\" {\n  url = %q\n}\n", s.path("store"), url)
	for _, i := range images {
		fmt.Fprintf(&b, "\nimage %q {\n  sha256  = %q\n  size    = %d\n  path    = %q\n  install = %q\n",
			i.name, i.digest(), i.length(), i.name+".img", "images/"+i.name+".img")
		if sources {
			b.WriteString("  sources = [\"mirror.m\"]\n")
		}
		b.WriteString("}\n")
	}
	return s.writeSpec(b.String())
}

// badSources is the bad_sources of the one image of an apply --json.
func badSources(t *testing.T, r result) []string {
	t.Helper()
	var out struct {
		Result struct {
			Images []struct {
				Bad []string `json:"bad_sources"`
			} `json:"images"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Result.Images) != 1 {
		t.Fatalf("apply --json: want one image: %v\n%s", err, r)
	}
	return out.Result.Images[0].Bad
}

// mirrorsSpec writes spec.hcl with the mirrors given as name, URL pairs
// and one image fetched from sources (an HCL list), and returns its path.
func (s *site) mirrorsSpec(stall string, image img, sources string, mirrors ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "store = %q\nstall_timeout = %q\n", s.path("store"), stall)
	for i := 0; i+1 < len(mirrors); i += 2 {
		fmt.Fprintf(&b, "\nmirror %q {\n  url = %q\n}\n", mirrors[i], mirrors[i+1])
	}
	fmt.Fprintf(&b, "\nimage %q {\n  sha256  = %q\n  size    = %d\n  path    = %q\n  install = %q\n  sources = %s\n}\n",
		image.name, image.digest(), image.length(), image.name+".img", "images/"+image.name+".img", sources)
	return s.writeSpec(b.String())
}

// writeSpec writes spec.hcl and returns its path.
func (s *site) writeSpec(text string) string {
	p := s.path("spec.hcl")
	testutil.Must(s.t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func (s *site) installed(name string) []byte {
	b, err := os.ReadFile(s.path("images", name+".img"))
	if err != nil {
		return nil
	}
	return b
}

// stagingSize is the size of the staging file of i, or -1.
func (s *site) stagingSize(i img) int64 {
	fi, err := os.Stat(s.path("store", "staging", "sha256", i.digest()+".part"))
	if err != nil {
		return -1
	}
	return fi.Size()
}

// waitFor polls cond until it holds or the test's patience ends.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
