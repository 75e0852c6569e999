package spec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.golden from the current output")

// specOpts compares Specs whole, except for source ranges, which the bad
// specs' goldens cover.
var specOpts = cmp.Options{
	cmpopts.IgnoreTypes(hcl.Range{}),
	cmp.Comparer(func(a, b digest.Digest) bool { return a == b }),
}

func TestParseGood(t *testing.T) {
	dir, err := filepath.Abs("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	parent := filepath.Dir(dir)
	tests := []struct {
		file     string
		want     *Spec
		warnings []string // summaries
	}{
		{file: "minimal.hcl", want: minimalWant()},
		{file: "full.hcl", want: fullWant(dir)},
		{file: "explicit-parents.hcl", want: explicitParentsWant(parent)},
		{file: "tree-root.hcl", want: treeRootWant(), warnings: []string{"Root of the tree has no parents"}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			filename := filepath.Join("testdata/good", tt.file)
			got, diags := Parse(filename)
			if diags.HasErrors() {
				var buf bytes.Buffer
				_ = Render(&buf, diags, false)
				t.Fatalf("Parse(%s) errors:\n%s", filename, buf.String())
			}
			tt.want.Filename = filename
			installDefaults(tt.want)
			if diff := cmp.Diff(tt.want, got, specOpts); diff != "" {
				t.Errorf("Parse(%s) mismatch (-want +got):\n%s", filename, diff)
			}
			var warnings []string
			for _, d := range diags.Diagnostics {
				warnings = append(warnings, d.Summary)
			}
			if diff := cmp.Diff(tt.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
	for _, f := range testutil.Files(t, "testdata/good/*.hcl") {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no case in TestParseGood", f)
		}
	}
}

// TestParseBad renders each bad spec's diagnostics as the CLI would and
// compares them with its golden file.
func TestParseBad(t *testing.T) {
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, filename := range testutil.Files(t, "testdata/bad/*.hcl") {
		t.Run(filepath.Base(filename), func(t *testing.T) {
			s, diags := Parse(filename)
			if !diags.HasErrors() || s != nil {
				t.Fatalf("Parse(%s) = %v, %d diagnostics; want nil and errors", filename, s, len(diags.Diagnostics))
			}
			for _, d := range diags.Diagnostics {
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no source range", d.Summary)
				}
			}
			var buf bytes.Buffer
			if err := Render(&buf, diags, false); err != nil {
				t.Fatal(err)
			}
			// Resolved paths are absolute; keep goldens independent of the checkout.
			got := strings.ReplaceAll(buf.String(), testdata, "$TESTDATA")
			golden := strings.TrimSuffix(filename, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./spec -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("diagnostics of %s (-want +got):\n%s", filename, diff)
			}
		})
	}
}

// TestThreeMistakes checks that problems on different lines of one file are
// all reported by one Parse, not one per run.
func TestThreeMistakes(t *testing.T) {
	_, diags := Parse("testdata/bad/three-mistakes.hcl")
	var got []int
	for _, p := range Problems(diags.Diagnostics) {
		got = append(got, p.Line)
	}
	if diff := cmp.Diff([]int{7, 14, 16}, got); diff != "" {
		t.Errorf("lines of problems (-want +got):\n%s", diff)
	}
}

func TestParseBytesResolvesAgainstFilename(t *testing.T) {
	src := []byte(`
mirror "m" { url = "mirror" }
image "x" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  install = "x.img"
}`)
	s, diags := ParseBytes(src, "/etc/prestaged/spec.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := []string{s.Store, s.Mirrors[0].URL, s.Images[0].Install}
	want := []string{DefaultStore, "file:///etc/prestaged/mirror/", "/etc/prestaged/x.img"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resolved paths (-want +got):\n%s", diff)
	}
}

// installDefaults gives the images of want that set none of them the
// defaults of install_format, owner, group and mode.
func installDefaults(want *Spec) {
	for _, img := range want.Images {
		if img.InstallFormat == "" {
			img.InstallOptions = defaultInstall
		}
	}
	for _, t := range want.Trusts {
		if t.Defaults.InstallFormat == "" {
			t.Defaults = defaultInstall
		}
	}
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func minimalWant() *Spec {
	return &Spec{
		Store: DefaultStore, StallTimeout: DefaultStallTimeout, Parallel: DefaultParallel,
		Mirrors: []*Mirror{{Name: "central", URL: "https://images.example.org/vm/"}},
		Images: []*Image{{
			Name:    "slc6-batch",
			Digest:  digest.MustParse("sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"),
			Size:    10737418240,
			Path:    "slc6-batch",
			Install: "/var/lib/libvirt/images/slc6-batch.img",
			Sources: []Source{{Kind: SourceMirror, Name: "central"}},
		}},
	}
}

func fullWant(dir string) *Spec {
	return &Spec{
		Store: "/srv/prestaged", StallTimeout: 45 * time.Second, Parallel: 4,
		Peer: &Peer{
			Listen:  ":7000",
			Parents: []string{"lxb0002:7000", "lxb0001:7000"},
			Hosts: []string{"lxb0001:7000", "lxb0002:7000", "lxb0003:7000", "lxb0004:7000",
				"10.0.0.5:7000", "[::6]:7000", "[::7]:7001"},
			Fanout: 2, Self: "lxb0004:7000",
			UploadLimit: 900_000_000, MaxChildren: 3, Pipelined: false,
		},
		Mirrors: []*Mirror{
			{Name: "central", URL: "https://images.example.org/vm/"},
			{Name: "local", URL: "file://" + dir + "/cache/images/"},
			{Name: "nfs", URL: "file:///net/images/"},
		},
		Trusts: []*Trust{{
			Name: "cern", List: "https://images.example.org/lists/cern.list", CADir: dir + "/certificates",
			EndorserDN: "/DC=ch/DC=cern/OU=computers/CN=image-endorser",
			EndorserCA: "/DC=ch/DC=cern/CN=CERN Grid Certification Authority",
			ListID:     "76fdee70-8119-5d33-9f40-3c57e1c60df1", OnRevoke: "keep", AllowSHA1: true, CRL: CRLOptional,
			Subscribe: true, InstallDir: "/var/lib/one/datastores/1",
			Sources: []Source{{Kind: SourceParents}, {Kind: SourceTorrent}, {Kind: SourceMirror, Name: "central"},
				{Kind: SourceMirror, Name: "local"}, {Kind: SourceMirror, Name: "nfs"}, {Kind: SourceEndorsed}},
			Defaults: InstallOptions{InstallFormat: FormatRaw, Owner: "0", UID: 0, GID: -1, Mode: 0o600, OnChange: OnChangeRestore},
		}},
		Torrent: &Torrent{Tracker: "udp://tracker.example.org:6969/announce", Listen: ":6999", PeersFromTree: true, WebSeed: true},
		Images: []*Image{{
			Name:    "slc6-batch",
			Digest:  digest.MustParse("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
			Size:    1024,
			Path:    "slc6/batch-20101130.img",
			Install: dir + "/images/slc6-batch.img",
			Sources: []Source{{Kind: SourceMirror, Name: "local"}, {Kind: SourceParents}, {Kind: SourceTorrent},
				{Kind: SourceMirror, Name: "central"}},
			TorrentURL: "https://images.example.org/torrents/slc6-batch.torrent",
			InfoHash:   "0123456789abcdef0123456789abcdef01234567",
			InstallOptions: InstallOptions{Format: FormatZstd, InstallFormat: FormatRaw, Owner: "root", Group: "0",
				UID: 0, GID: 0, Mode: 0o640, OnChange: OnChangeKeep},
		}, {
			Name: "cernvm", Path: "cernvm", Install: "/var/lib/libvirt/images/cernvm.img",
			Trust: "cern", ID: "c8a6b8f2-4b0f-5d0b-8e5c-7bd0e1a2f3c4",
			Sources: []Source{{Kind: SourceParents}, {Kind: SourceTorrent}, {Kind: SourceMirror, Name: "central"},
				{Kind: SourceMirror, Name: "local"}, {Kind: SourceMirror, Name: "nfs"}, {Kind: SourceEndorsed}},
		}},
		Hooks: []*Hook{{Name: "libvirt", Command: []string{"/usr/bin/virsh", "pool-refresh", "default"},
			On: []string{EventInstall, EventReplace}, Timeout: 30 * time.Second}},
	}
}

func explicitParentsWant(parent string) *Spec {
	return &Spec{
		Store: parent + "/state", StallTimeout: DefaultStallTimeout, Parallel: DefaultParallel,
		Peer:    &Peer{Listen: DefaultListen, Parents: []string{"lxb0012:7946", "lxb0013:7947"}, Pipelined: true},
		Mirrors: []*Mirror{{Name: "here", URL: "file:///srv/mirror/"}},
		Images: []*Image{{
			Name: "demo", Digest: digest.MustParse(emptySHA256), Size: 2097152, Path: "demo",
			Install: parent + "/images/demo.img",
			Sources: []Source{{Kind: SourceParents}, {Kind: SourceMirror, Name: "here"}},
		}},
	}
}

func treeRootWant() *Spec {
	return &Spec{
		Store: DefaultStore, StallTimeout: DefaultStallTimeout, Parallel: DefaultParallel,
		Peer:    &Peer{Listen: DefaultListen, Hosts: []string{"a:7946", "b:7946", "c:7946"}, Fanout: 1, Self: "a:7946", Pipelined: true},
		Mirrors: []*Mirror{{Name: "central", URL: "http://mirror.example.org/"}},
		Images: []*Image{{
			Name: "demo", Digest: digest.MustParse(emptySHA256), Size: 1, Path: "demo",
			Install: "/images/demo.img",
			Sources: []Source{{Kind: SourceMirror, Name: "central"}},
		}},
	}
}

// TestParseJSON checks that HCL's JSON syntax, which configuration
// management may emit instead, decodes to the same Spec.
func TestParseJSON(t *testing.T) {
	filename := "testdata/good/minimal.hcl.json"
	got, diags := Parse(filename)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := minimalWant()
	want.Filename = filename
	installDefaults(want)
	if diff := cmp.Diff(want, got, specOpts); diff != "" {
		t.Errorf("Parse(%s) mismatch (-want +got):\n%s", filename, diff)
	}
}

// TestDiagnosticsCarryTheirFiles checks that diagnostics render with the
// text they were parsed from, even after another parse of the same name.
func TestDiagnosticsCarryTheirFiles(t *testing.T) {
	first, second := "store = 1first\n", "store = 2second\n"
	_, diags := ParseBytes([]byte(first), "same.hcl")
	if !diags.HasErrors() {
		t.Fatal("no error for an invalid spec")
	}
	_, _ = ParseBytes([]byte(second), "same.hcl")
	var buf bytes.Buffer
	if err := Render(&buf, diags, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "1first") || strings.Contains(buf.String(), "2second") {
		t.Errorf("diagnostics of the first parse render another text:\n%s", buf.String())
	}
}
