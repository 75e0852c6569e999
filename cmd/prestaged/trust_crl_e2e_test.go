package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/engine/trust"
)

// listVerify runs `list verify --json` on the published list and returns
// the exit code and "name status" of each revocation check.
func (s *subscriber) listVerify(extra ...string) (int, []string, result) {
	s.t.Helper()
	args := append([]string{"list", "verify", s.path("published", "e2e.list"), "--ca-dir", s.pki.caDir, "--json"}, extra...)
	r := run(s.t, args...)
	var out struct{ Checks []trust.Check }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		s.t.Fatalf("list verify --json: %v\n%s", err, r)
	}
	var rev []string
	for _, c := range out.Checks {
		if c.Name == trust.CheckRevocation || c.Name == trust.CheckRevocationCA {
			rev = append(rev, c.Name+" "+c.Status)
		}
	}
	return r.code, rev, r
}

// TestTrustCRL: through the binary, list verify reports the signer and the
// root each against the root's CRL; an expired CRL (nextUpdate in 2024)
// makes list verify and apply refuse and holds what is installed; with no
// CRL, crl = "required" refuses, "optional" installs, and "off" installs
// with a warning from plan.
func TestTrustCRL(t *testing.T) {
	s, vm, _, spec := publishedVM(t, 31, "")
	crlFile, err := filepath.Glob(filepath.Join(s.pki.caDir, "*.r0"))
	if err != nil || len(crlFile) != 1 {
		t.Fatalf("the test ca_dir has no CRL: %v %v", crlFile, err)
	}

	code, rev, r := s.listVerify()
	if diff := cmp.Diff([]string{"revocation ok", "revocation-ca ok"}, rev); code != 0 || diff != "" {
		t.Fatalf("valid CRL: exit %d, revocation checks (-want +got):\n%s\n%s", code, diff, r)
	}
	text := run(t, "list", "verify", s.path("published", "e2e.list"), "--ca-dir", s.pki.caDir)
	for _, want := range []string{"ok    revocation            " + e2eOneDN + ": ok: serial",
		"ok    revocation-ca         " + e2eRootDN + ": ok: serial"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("list verify text does not show %q:\n%s", want, text)
		}
	}

	// The CRL fetch-crl installed long ago and never refreshed.
	s.pki.crl(t, "-crl_lastupdate", "20240101000000Z", "-crl_nextupdate", "20240201000000Z")
	code, rev, r = s.listVerify()
	if diff := cmp.Diff([]string{"revocation expired", "revocation-ca expired"}, rev); code != 1 || diff != "" {
		t.Fatalf("expired CRL: exit %d, revocation checks (-want +got):\n%s\n%s", code, diff, r)
	}
	text = run(t, "list", "verify", s.path("published", "e2e.list"), "--ca-dir", s.pki.caDir)
	if text.code != 1 || !strings.Contains(text.stdout, "FAIL  revocation            "+e2eOneDN+": expired: the CRL of "+e2eRootDN+
		" in ca_dir expired on 2024-02-01") || !strings.Contains(text.stdout, "Refused: 2 check(s) failed: revocation, revocation-ca.") {
		t.Errorf("list verify text with an expired CRL:\n%s", text)
	}
	r = mustApply(t, spec, 4)
	if !strings.Contains(r.stderr, "no current CRL") || !strings.Contains(r.stderr, "expired on 2024-02-01") || s.installed("vm") != nil {
		t.Fatalf("apply with an expired CRL must refuse the list and install nothing: %s", r)
	}

	// A current CRL: installed. Then it expires: the list is refused again
	// and the installed image is held, not removed.
	s.pki.crl(t)
	mustApply(t, spec, 2)
	if !bytes.Equal(s.installed("vm"), vm.content) {
		t.Fatal("with a current CRL the image was not installed")
	}
	s.pki.crl(t, "-crl_lastupdate", "20240101000000Z", "-crl_nextupdate", "20240201000000Z")
	if r := run(t, "plan", "--detailed-exitcodes", spec); r.code != 1 || !strings.Contains(r.stderr, "no current CRL") ||
		strings.Contains(r.stdout, "remove   vm") {
		t.Fatalf("plan once the CRL expired: want exit 1, the CRL named and no removal, got %s", r)
	}
	mustApply(t, spec, 4)
	if !bytes.Equal(s.installed("vm"), vm.content) {
		t.Fatal("an expired CRL removed an installed image")
	}

	// No CRL at all.
	if err := os.Remove(crlFile[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(s.path("images", "vm.img")); err != nil {
		t.Fatal(err)
	}
	code, rev, _ = s.listVerify()
	if diff := cmp.Diff([]string{"revocation missing", "revocation-ca missing"}, rev); code != 1 || diff != "" {
		t.Errorf("no CRL, required: exit %d, revocation checks (-want +got):\n%s", code, diff)
	}
	if r := mustApply(t, spec, 4); !strings.Contains(r.stderr, "no CRL of "+e2eRootDN) || s.installed("vm") != nil {
		t.Fatalf("no CRL, crl required: %s", r)
	}
	if code, _, r := s.listVerify("--crl", "optional"); code != 0 {
		t.Errorf("no CRL, --crl optional: %s", r)
	}
	s.crl = "optional"
	spec = s.spec("", "vm")
	mustApply(t, spec, 2)
	if !bytes.Equal(s.installed("vm"), vm.content) {
		t.Fatal(`no CRL, crl = "optional": the image was not installed`)
	}

	s.crl = "off"
	spec = s.spec("", "vm")
	if r := run(t, "validate", spec); r.code != 0 {
		t.Fatalf(`validate with crl = "off": %s`, r)
	}
	if r := run(t, "plan", spec); r.code != 0 || !strings.Contains(r.stderr, `warning: trust e2e: crl = "off"`) {
		t.Errorf(`plan with crl = "off" must warn: %s`, r)
	}
	if code, rev, r := s.listVerify("--crl", "off"); code != 0 || !cmp.Equal(rev, []string{"revocation off"}) {
		t.Errorf("--crl off: %v %s", rev, r)
	}
	if r := run(t, "list", "verify", s.path("published", "e2e.list"), "--crl", "of"); r.code == 0 ||
		!strings.Contains(r.stderr, "--crl must be") {
		t.Errorf("--crl of: %s", r)
	}
}
