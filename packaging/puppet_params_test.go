package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPuppetParameters applies the module with one parameter or a few set
// (TestPuppetCoversSpec renders every spec attribute, TestPuppetServices the
// units): what the spec says, what the catalog holds, what is refused.
func TestPuppetParameters(t *testing.T) {
	const off = "manage_package => false, apply => false,"
	tests := []struct {
		name          string
		params, after string
		args          []string
		code          int      // puppet apply --detailed-exitcodes (0 with --noop)
		inSpec        []string // with code 2
		inOutput      []string
	}{
		{name: "defaults", params: off, code: 2, inSpec: []string{"\nstore = \"{{.Dir}}/store\"\n"}},
		{name: "listen and parents shorthands", code: 2,
			params: off + "listen => ':7946', parents => ['lxb0012.example.org'],",
			inSpec: []string{"\npeer {\n  listen = \":7946\"\n  parents = [\"lxb0012.example.org\"]\n}\n"}},
		{name: "self defaults to the FQDN in a computed tree", code: 2,
			params: off + "peer => { hosts => ['lxb0001.example.org', $facts['networking']['fqdn']] },",
			inSpec: []string{"\n  self = \""}},
		{name: "empty peer and torrent blocks", code: 2, params: off + "peer => {}, torrent => {},",
			inSpec: []string{"\npeer {\n}\n", "\ntorrent {\n}\n"}},
		{name: "HCL escapes", code: 2, params: off + `trust => { 'odd' => {
			list => 'https://example.org/${list}.list', ca_dir => '/etc/grid-security/certificates',
			endorser_dn => '/CN="quoted" \\ %{x}', endorser_ca => "/CN=tab\there" } },`,
			inSpec: []string{`"https://example.org/$${list}.list"`, `"/CN=\"quoted\" \\ %%{x}"`, `"/CN=tab\there"`}},
		{name: "the apply waits for the lock and has a timeout", args: []string{"--noop"},
			params:   "manage_package => false, apply_wait => 42, apply_timeout => 900, path => [$bin],",
			after:    `notify { 'exec': message => "${Exec['prestaged apply']['command']} timeout ${Exec['prestaged apply']['timeout']}" }`,
			inOutput: []string{"should be 'prestaged apply --detailed-exitcodes --wait 42s {{.Dir}}/spec.hcl timeout 900'"}},
		{name: "package", args: []string{"--noop"}, params: "apply => false, package_ensure => '1.2.3',",
			inOutput: []string{"Package[prestaged]/ensure: current_value '", "should be '1.2.3' (noop)"}},
		{name: "info_hash is not the spec's name", code: 1, params: off + `images => { 'x' => {
			sha256 => '` + strings.Repeat("a", 64) + `', size => 1, install => '/x', info_hash => '` + strings.Repeat("b", 40) + `' } },`,
			inOutput: []string{"unrecognized key 'info_hash'"}},
		{name: "hooks in the order given", code: 2, params: off + `hooks => {
			'z' => { command => ['/bin/true'] }, 'a' => { command => ['/bin/true', '-x'], on => ['remove'] } },`,
			inSpec: []string{"\nhook \"z\" {\n  command = [\"/bin/true\"]\n}\n\nhook \"a\" {\n  command = [\"/bin/true\", \"-x\"]\n  on = [\"remove\"]\n}\n"}},
		{name: "mode not octal", code: 1, params: off + `images => { 'x' => {
			sha256 => '` + strings.Repeat("a", 64) + `', size => 1, install => '/x', mode => '644x' } },`,
			inOutput: []string{"entry 'mode' expects a match for Prestaged::Mode"}},
		{name: "hook command not an absolute path", code: 1, params: off + "hooks => { 'h' => { command => ['true'] } },",
			inOutput: []string{"entry 'command' index 0 expects a match for Pattern"}},
		{name: "listen given twice", code: 1, params: off + "listen => ':1', peer => { listen => ':2' },",
			inOutput: []string{"listen given both as a class parameter and in peer"}},
		{name: "apply_wait not below apply_timeout", code: 1, params: off + "apply_wait => 60, apply_timeout => 60,",
			inOutput: []string{"apply_wait (60s) must be less than apply_timeout (60s)"}},
		{name: "stall_timeout not a duration", code: 1, params: off + "stall_timeout => 'soon',",
			inOutput: []string{"parameter 'stall_timeout' expects"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newScratchPuppet(t)
			code, out := p.apply(t, testdataManifest(t, "parameters.pp"), map[string]any{"Params": tt.params, "After": tt.after}, tt.args...)
			if code != tt.code {
				t.Fatalf("puppet apply exit %d, want %d:\n%s", code, tt.code, out)
			}
			spec, _ := os.ReadFile(filepath.Join(p.dir, "spec.hcl"))
			for _, c := range []struct {
				where, text string
				want        []string
			}{{"spec", string(spec), tt.inSpec}, {"output", out, tt.inOutput}} {
				for _, w := range c.want {
					if w = strings.ReplaceAll(w, "{{.Dir}}", p.dir); !strings.Contains(c.text, w) {
						t.Errorf("%s lacks %q:\n%s", c.where, w, c.text)
					}
				}
			}
		})
	}
}
