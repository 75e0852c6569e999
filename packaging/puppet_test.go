package packaging

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/prestaged/prestaged/internal/testutil"
)

// site is the manifest the test applies: the example module with services
// off (systemd is not PID 1 in CI), the spec, store and image in a temp
// directory, and a trust block whose values need every HCL escape.
var site = template.Must(template.New("site.pp").Parse(`
class { 'prestaged':
  store           => '{{.Dir}}/store',
  spec_path       => '{{.Dir}}/etc/spec.hcl',
  mirrors         => { 'local' => 'file://{{.Dir}}/mirror/' },
  trust           => {
    'odd' => {
      list        => 'https://example.org/${list}.list',
      ca_dir      => '/etc/grid-security/certificates',
      endorser_dn => '/CN="quoted" \\ %{x}',
      endorser_ca => "/CN=tab\there",
    },
  },
  images          => {
    'tiny' => {
      sha256  => '{{.Digest}}',
      size    => {{.Size}},
      path    => 'tiny.img',
      install => '{{.Dir}}/images/tiny.img',
      sources => ['mirror.local'],
    },
  },
  manage_package  => false,
  manage_services => false,
  path            => ['{{.Bin}}', '/usr/bin', '/bin'],
}
`))

// TestPuppet applies the example module twice with a real puppet: the first
// run writes the spec and stages the image (exit 2, changes), the second
// finds the host converged (exit 0).
func TestPuppet(t *testing.T) {
	puppet := testutil.Need(t, "puppet")
	b := artifacts.Get(t)
	dir := t.TempDir()
	for _, d := range []string{"etc", "images", "mirror"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	img := bytes.Repeat([]byte("prestaged puppet test image\n"), 4096)
	if err := os.WriteFile(filepath.Join(dir, "mirror", "tiny.img"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(img)
	var manifest bytes.Buffer
	vars := map[string]any{"Dir": dir, "Digest": hex.EncodeToString(sum[:]), "Size": len(img), "Bin": filepath.Dir(b.binary)}
	if err := site.Execute(&manifest, vars); err != nil {
		t.Fatal(err)
	}
	sitePP := filepath.Join(dir, "site.pp")
	if err := os.WriteFile(sitePP, manifest.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	modules, err := filepath.Abs("../examples/puppet")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want int // puppet apply --detailed-exitcodes
	}{
		{"first run writes the spec and stages the image", 2},
		{"second run changes nothing", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(puppet, "apply", "--detailed-exitcodes", "--color=false",
				"--modulepath="+modules, "--codedir="+dir+"/p/code", "--confdir="+dir+"/p/conf",
				"--vardir="+dir+"/p/var", "--logdir="+dir+"/p/log", "--rundir="+dir+"/p/run", sitePP)
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(b.binary)+":"+os.Getenv("PATH"))
			if got, out := exitCode(t, cmd); got != tt.want {
				t.Fatalf("puppet apply exit %d, want %d:\n%s", got, tt.want, out)
			}
		})
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "images", "tiny.img")); !bytes.Equal(got, img) {
		t.Errorf("installed image: %d bytes, differs from the mirror's", len(got))
	}
	spec, _ := os.ReadFile(filepath.Join(dir, "etc", "spec.hcl"))
	for _, want := range []string{`"https://example.org/$${list}.list"`, `"/CN=\"quoted\" \\ %%{x}"`, `"/CN=tab\there"`} {
		if !strings.Contains(string(spec), want) {
			t.Errorf("spec lacks %s:\n%s", want, spec)
		}
	}
}
