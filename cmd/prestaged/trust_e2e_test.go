package main_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/engine/trust"
	"github.com/prestaged/prestaged/internal/testutil"
)

// End to end, with the real binary and a test PKI made by openssl: an
// endorser publishes lists, a host subscribes, installs, refuses forgeries,
// and removes what the endorser revokes.

const (
	e2eRootDN = "/C=CH/O=E2E Grid/CN=E2E Root CA"
	e2eOneDN  = "/C=CH/O=E2E Grid/OU=Images/CN=Endorser One"
	e2eTwoDN  = "/C=CH/O=E2E Grid/OU=Images/CN=Endorser Two"
	e2eListID = "0b9e2a4c-6f1d-4c3e-9a57-3d2f1e0c8b7a"
)

type e2eSigner struct{ cert, key, dn string }

// e2ePKI is a root CA and its CRL in a hashed ca_dir, and two endorsers it
// issued.
type e2ePKI struct {
	dir, caDir, root string
	one, two         e2eSigner
}

var e2eOpenSSLConf = testutil.OpenSSLConf + `
[ ca ]
default_ca = root
[ root ]
database = index.txt
crlnumber = crlnumber
certificate = root.pem
private_key = root.key
default_md = sha256
default_crl_days = 30
`

// newE2EPKI makes the PKI with EC keys (fast) in a test directory.
func newE2EPKI(t *testing.T) *e2ePKI {
	t.Helper()
	testutil.Need(t, "openssl")
	dir := t.TempDir()
	p := &e2ePKI{dir: dir, caDir: filepath.Join(dir, "certificates"), root: filepath.Join(dir, "root.pem")}
	testutil.Must(t, os.Mkdir(p.caDir, 0o755))
	for name, content := range map[string]string{"openssl.cnf": e2eOpenSSLConf, "index.txt": "", "crlnumber": "01\n"} {
		testutil.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	ec := append([]string{"-nodes", "-config", "openssl.cnf"}, testutil.ECKey...)
	p.openssl(t, append([]string{"req", "-x509", "-extensions", "v3_ca", "-keyout", "root.key", "-out", "root.pem",
		"-subj", e2eRootDN, "-days", "30"}, ec...)...)
	issue := func(name, dn string) e2eSigner {
		p.openssl(t, append([]string{"req", "-new", "-keyout", name + ".key", "-out", name + ".csr", "-subj", dn}, ec...)...)
		p.openssl(t, "x509", "-req", "-in", name+".csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
			"-days", "30", "-extfile", "openssl.cnf", "-extensions", "endorser_ext", "-out", name+".pem")
		return e2eSigner{cert: filepath.Join(dir, name+".pem"), key: filepath.Join(dir, name+".key"), dn: dn}
	}
	p.one, p.two = issue("one", e2eOneDN), issue("two", e2eTwoDN)
	testutil.Must(t, testutil.InstallHashed(dir, p.caDir, "root.pem", false))
	p.crl(t)
	return p
}

// crl writes the root's CRL as ca_dir/<hash>.r0 with `openssl ca -gencrl`
// (extra: e.g. -crl_nextupdate), as fetch-crl would install it.
func (p *e2ePKI) crl(t *testing.T, extra ...string) {
	t.Helper()
	p.openssl(t, append([]string{"ca", "-config", "openssl.cnf", "-gencrl", "-out", "root.crl"}, extra...)...)
	testutil.Must(t, testutil.InstallHashed(p.dir, p.caDir, "root.crl", true))
}

func (p *e2ePKI) openssl(t *testing.T, args ...string) string {
	t.Helper()
	return testutil.OpenSSLT(t, p.dir, args...)
}

// sign dates, versions and endorses l as s, and signs it with `openssl
// smime -sign` (detached, as grid endorsers publish lists).
func (p *e2ePKI) sign(t *testing.T, s e2eSigner, l *trust.List, version string, created, expires time.Time) []byte {
	t.Helper()
	l.Version, l.Created, l.Expires = version, created.UTC().Truncate(time.Second), expires.UTC().Truncate(time.Second)
	l.Endorser.DN, l.Endorser.CA = s.dn, e2eRootDN
	b, err := l.MarshalIndent()
	if err != nil {
		t.Fatal(err)
	}
	return testutil.OpenSSLSign(t, p.dir, b, "smime", "-sign", "-signer", s.cert, "-inkey", s.key)
}

// valid signs l as endorser one, created an hour ago, expiring in a week.
func (p *e2ePKI) valid(t *testing.T, l *trust.List, version string) []byte {
	now := time.Now()
	return p.sign(t, p.one, l, version, now.Add(-time.Hour), now.Add(7*24*time.Hour))
}

// publishedVM is a subscriber to whom the endorser published version 1 of
// a list of one image, vm (64 KiB from seed), and the spec of a host that
// subscribes with onRevoke.
func publishedVM(t *testing.T, seed uint64, onRevoke string) (*subscriber, img, *trust.List, string) {
	t.Helper()
	s := newSubscriber(t)
	vm := img{name: "vm", content: randomBytes(64<<10, seed)}
	l := s.newList(vm)
	s.publish(s.pki.valid(t, l, "1"))
	return s, vm, l, s.spec(onRevoke, "vm")
}

// subscriber is a site whose host has a trust block "e2e" over the list
// published at dir/published/e2e.list.
type subscriber struct {
	*site
	pki *e2ePKI
	crl string // the trust block's crl attribute; "" = not written
}

func newSubscriber(t *testing.T) *subscriber {
	s := &subscriber{site: newSite(t), pki: newE2EPKI(t)}
	for _, d := range []string{"published", "endorser"} {
		testutil.Must(t, os.Mkdir(s.path(d), 0o755))
	}
	return s
}

// newList makes an unsigned list with `prestaged list new` and adds each
// image with `prestaged list add-image` (size, sha512 and sha256), its file
// published beside the list and named by a file:// hv:uri.
func (s *subscriber) newList(images ...img) *trust.List {
	s.t.Helper()
	r := run(s.t, "list", "new", "--id", e2eListID, "--title", "E2E images", "--uri", "file://"+s.path("published", "e2e.list"))
	if r.code != 0 {
		s.t.Fatal(r)
	}
	list := s.path("endorser", "e2e.json")
	if err := os.WriteFile(list, []byte(r.stdout), 0o644); err != nil {
		s.t.Fatal(err)
	}
	for _, im := range images {
		s.addImage(list, im)
	}
	return s.readList(list)
}

func (s *subscriber) addImage(list string, im img) {
	s.t.Helper()
	file := s.path("published", fmt.Sprintf("%s-%x.img", im.name, sha512.Sum512_224(im.content)))
	if err := os.WriteFile(file, im.content, 0o644); err != nil {
		s.t.Fatal(err)
	}
	if r := run(s.t, "list", "add-image", list, file, "--id", im.name, "--title", "Image "+im.name, "--uri", "file://"+file); r.code != 0 {
		s.t.Fatal(r)
	}
}

func (s *subscriber) readList(path string) *trust.List {
	s.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatal(err)
	}
	l, err := trust.ParseList(b)
	if err != nil {
		s.t.Fatal(err)
	}
	return l
}

func (s *subscriber) publish(signed []byte) {
	s.t.Helper()
	if err := os.WriteFile(s.path("published", "e2e.list"), signed, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// spec writes spec.hcl with one endorsed image block per id.
func (s *subscriber) spec(onRevoke string, ids ...string) string {
	s.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "store = %q\n\ntrust \"e2e\" {\n  list        = %q\n  ca_dir      = %q\n  endorser_dn = %q\n  endorser_ca = %q\n",
		s.path("store"), s.path("published", "e2e.list"), s.pki.caDir, e2eOneDN, e2eRootDN)
	if onRevoke != "" {
		fmt.Fprintf(&b, "  on_revoke   = %q\n", onRevoke)
	}
	if s.crl != "" {
		fmt.Fprintf(&b, "  crl         = %q\n", s.crl)
	}
	b.WriteString("}\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "\nimage %q {\n  trust   = \"e2e\"\n  id      = %q\n  install = %q\n}\n", id, id, s.path("images", id+".img"))
	}
	return s.writeSpec(b.String())
}

func (s *subscriber) rememberedVersion() string {
	s.t.Helper()
	r, err := trust.LoadRemembered(s.path("store", "lists"), "e2e")
	if err != nil || r == nil {
		s.t.Fatalf("remembered list: %v, %v", r, err)
	}
	return r.Version
}

// planActions runs `plan --json` and returns each image's action and reason.
func planActions(t *testing.T, spec string) (map[string]string, map[string]string, result) {
	t.Helper()
	r := run(t, "plan", "--json", spec)
	var out struct {
		Plan struct {
			Images []struct{ Image, Action, Reason string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, r)
	}
	actions, reasons := map[string]string{}, map[string]string{}
	for _, it := range out.Plan.Images {
		actions[it.Image], reasons[it.Image] = it.Action, it.Reason
	}
	return actions, reasons, r
}

func mustApply(t *testing.T, spec string, wantCode int) result {
	t.Helper()
	r := run(t, "apply", "--detailed-exitcodes", "--no-progress", spec)
	if r.code != wantCode {
		t.Fatalf("apply: want exit %d, got %s", wantCode, r)
	}
	return r
}

// flip changes one byte of the signed content (a letter of the title).
func flip(t *testing.T, signed []byte) []byte {
	t.Helper()
	out := bytes.Replace(signed, []byte("E2E images"), []byte("E2E imageS"), 1)
	if bytes.Equal(out, signed) {
		t.Fatal("flip: the title is not in the signed list")
	}
	return out
}

// TestTrustListSignedByPrestagedVerifiesWithOpenSSL: what an endorser makes
// with list new, add-image and sign is what openssl accepts.
func TestTrustListSignedByPrestagedVerifiesWithOpenSSL(t *testing.T) {
	s := newSubscriber(t)
	s.newList(img{name: "vm", content: randomBytes(64<<10, 1)})
	list := s.path("endorser", "e2e.json")
	r := run(t, "list", "sign", list, "--cert", s.pki.one.cert, "--key", s.pki.one.key, "--days", "7")
	if r.code != 0 {
		t.Fatal(r)
	}
	signed := s.path("published", "e2e.list")
	if err := os.WriteFile(signed, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	out := s.path("verified.json")
	s.pki.openssl(t, "smime", "-verify", "-CAfile", s.pki.root, "-in", signed, "-out", out)
	if l := s.readList(out); l.ID != e2eListID || l.Image("vm") == nil || l.Endorser.DN != e2eOneDN {
		t.Fatalf("openssl smime -verify printed another list: id %s, endorser %s", l.ID, l.Endorser.DN)
	}
}

// TestTrustEndorsedLifecycle: a list signed by openssl is accepted and its
// image installed; a forged list changes nothing; a new hv:version of the
// image replaces it; the endorser dropping it removes it.
func TestTrustEndorsedLifecycle(t *testing.T) {
	s := newSubscriber(t)
	v1 := img{name: "vm", content: randomBytes(256<<10, 1)}
	v2 := img{name: "vm", content: randomBytes(256<<10, 2)}
	l := s.newList(v1)
	s.publish(s.pki.valid(t, l, "1"))
	spec := s.spec("", "vm")

	mustApply(t, spec, 2)
	if !bytes.Equal(s.installed("vm"), v1.content) {
		t.Fatal("the endorsed image was not installed")
	}
	if r := mustApply(t, spec, 0); !strings.Contains(r.stdout, "nothing to do") {
		t.Fatalf("second apply: %s", r)
	}

	// A forged list (v2 without the image, one byte changed after signing)
	// is refused loudly and revokes nothing.
	l.Images = nil
	s.publish(flip(t, s.pki.valid(t, l, "2")))
	if r := run(t, "plan", "--detailed-exitcodes", spec); r.code != 1 || !strings.Contains(r.stderr, "bad signature") ||
		strings.Contains(r.stdout, "remove   vm") {
		t.Fatalf("plan with a tampered list: want exit 1 naming the signature check and no removal, got %s", r)
	}
	r := mustApply(t, spec, 4)
	if !strings.Contains(r.stderr, "bad signature") || !strings.Contains(r.stderr, "stays in force") {
		t.Errorf("apply with a tampered list must name the failed check and keep the last list: %s", r)
	}
	if !bytes.Equal(s.installed("vm"), v1.content) || s.rememberedVersion() != "1" {
		t.Fatalf("a tampered list changed the host (remembered hv:version %s)", s.rememberedVersion())
	}

	// A new hv:version of the image, with a new checksum, replaces it.
	l = s.newList(v1)
	s.addImage(s.path("endorser", "e2e.json"), v2)
	l = s.readList(s.path("endorser", "e2e.json"))
	if l.Image("vm").Version != "2" {
		t.Fatalf("add-image of new content: hv:version %s, want 2", l.Image("vm").Version)
	}
	s.publish(s.pki.valid(t, l, "3"))
	if actions, reasons, r := planActions(t, spec); actions["vm"] != "replace" {
		t.Fatalf("new hv:version: want replace, got %q (%s)\n%s", actions["vm"], reasons["vm"], r)
	}
	mustApply(t, spec, 2)
	if !bytes.Equal(s.installed("vm"), v2.content) {
		t.Fatal("the new version was not installed")
	}

	// The endorser drops the image: it is revoked and removed.
	l.Images = nil
	s.publish(s.pki.valid(t, l, "4"))
	actions, reasons, _ := planActions(t, spec)
	if actions["vm"] != "remove" || !strings.HasPrefix(reasons["vm"], "revoked by endorser") {
		t.Fatalf("revoked image: want remove, revoked by endorser…; got %q (%s)", actions["vm"], reasons["vm"])
	}
	mustApply(t, spec, 2)
	if _, err := os.Stat(s.path("images", "vm.img")); !os.IsNotExist(err) {
		t.Fatalf("the revoked image is still installed: %v", err)
	}
	mustApply(t, spec, 0)
}

// TestTrustRevokedKept: with on_revoke = "keep" a revoked image stays,
// reported as untrusted.
func TestTrustRevokedKept(t *testing.T) {
	s, vm, l, spec := publishedVM(t, 3, "keep")
	mustApply(t, spec, 2)

	l.Images = nil
	s.publish(s.pki.valid(t, l, "2"))
	actions, reasons, r := planActions(t, spec)
	if actions["vm"] != "ok" || !strings.Contains(reasons["vm"], "untrusted") {
		t.Fatalf("kept image: want ok and untrusted, got %q (%s)\n%s", actions["vm"], reasons["vm"], r)
	}
	for _, verb := range []string{"plan", "status"} {
		if r := run(t, verb, spec); r.code != 0 || !strings.Contains(r.stderr, "warning: image vm: revoked by endorser") ||
			!strings.Contains(r.stderr, "untrusted") {
			t.Errorf("%s must warn that the kept image is untrusted: %s", verb, r)
		}
	}
	mustApply(t, spec, 0)
	if !bytes.Equal(s.installed("vm"), vm.content) {
		t.Fatal("on_revoke = keep: the image was removed")
	}
}

// TestTrustSHA512Only: an image whose list gives only sl:checksum:sha512 is
// stored and served by its sha512; serve follows the lists apply accepts.
func TestTrustSHA512Only(t *testing.T) {
	s := newSubscriber(t)
	vm := img{name: "vm", content: randomBytes(200<<10, 4)}
	added := img{name: "added", content: randomBytes(100<<10, 5)}
	l := s.newList(vm)
	l.Image("vm").SHA256 = "" // as lists from other endorsers' tools are
	sum := sha512.Sum512(vm.content)
	hexsum := hex.EncodeToString(sum[:])
	s.publish(s.pki.valid(t, l, "1"))
	spec := s.spec("", "vm", "added")

	r := mustApply(t, spec, 2) // vm installed; "added" is not endorsed yet: a warning
	if !strings.Contains(r.stderr, "image added: revoked by endorser") {
		t.Errorf("an image not (yet) in the list must be reported: %s", r)
	}
	if !bytes.Equal(s.installed("vm"), vm.content) {
		t.Fatal("the sha512-only image was not installed")
	}
	if b, err := os.ReadFile(s.path("store", "blobs", "sha512", hexsum)); err != nil || !bytes.Equal(b, vm.content) {
		t.Fatalf("blob not under blobs/sha512/<hex>: %v", err)
	}

	base := startServe(t, spec)
	get := func(path string) (int, []byte) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := get("/v1/blobs/sha512/" + hexsum); code != http.StatusOK || !bytes.Equal(b, vm.content) {
		t.Fatalf("GET /v1/blobs/sha512/<hex>: %d, %d bytes", code, len(b))
	}

	// The endorser adds an image; apply accepts the list and installs it;
	// the running serve serves it without a reload.
	s.addImage(s.path("endorser", "e2e.json"), added)
	l = s.readList(s.path("endorser", "e2e.json"))
	l.Image("vm").SHA256 = ""
	s.publish(s.pki.valid(t, l, "2"))
	mustApply(t, spec, 2)
	addedPath := "/v1/blobs/sha256/" + added.digest()
	waitFor(t, "serve to offer the newly endorsed image", func() bool { code, _ := get(addedPath); return code == http.StatusOK })
	if code, _ := get("/v1/blobs/sha512/" + strings.Repeat("ab", 64)); code != http.StatusNotFound {
		t.Errorf("a digest no list endorses: want 404, got %d", code)
	}
}

// startServe runs `prestaged serve` on a free loopback port and returns
// its base URL once it serves.
func startServe(t *testing.T, spec string) string {
	t.Helper()
	log := serveLogged(t, spec)
	listen := regexp.MustCompile(`msg=serving listen=(127\.0\.0\.1:\d+)`)
	var addr string
	waitFor(t, "serve to listen", func() bool {
		b, _ := os.ReadFile(log)
		if m := listen.FindSubmatch(b); m != nil {
			addr = string(m[1])
		}
		return addr != ""
	})
	return "http://" + addr
}

// serveLogged starts `prestaged serve` on a free loopback port with the
// extra flags and returns the file its log goes to.
func serveLogged(t *testing.T, spec string, flags ...string) string {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(prestaged, append(append([]string{"serve", "--listen", "127.0.0.1:0"}, flags...), spec)...)
	cmd.Stderr = logf // written by the process itself: safe to read meanwhile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return logf.Name()
}

// TestTrustExpiredList: when the last accepted list has expired, its
// images are revoked.
func TestTrustExpiredList(t *testing.T) {
	s, _, l, spec := publishedVM(t, 6, "")
	mustApply(t, spec, 2)

	// Days later: the endorser stopped re-signing, and the list this host
	// accepted (version 2, accepted three days ago) expired yesterday.
	now := time.Now()
	expired := s.pki.sign(t, s.pki.one, l, "2", now.Add(-10*24*time.Hour), now.Add(-24*time.Hour))
	s.publish(expired)
	rep := trust.Inspect(expired, trust.Policy{}, now)
	rem := &trust.Remembered{Trust: "e2e", URL: "file://" + s.path("published", "e2e.list"), ListID: e2eListID,
		Version: "2", ContentSHA256: rep.ContentSHA256, Expires: rep.List.Expires,
		AcceptedAt: now.Add(-3 * 24 * time.Hour), Raw: expired}
	if err := rem.Save(s.path("store", "lists")); err != nil {
		t.Fatal(err)
	}
	actions, reasons, r := planActions(t, spec)
	if actions["vm"] != "remove" || !strings.HasPrefix(reasons["vm"], "image list expired") {
		t.Fatalf("expired list: want remove, image list expired; got %q (%s)\n%s", actions["vm"], reasons["vm"], r)
	}
	mustApply(t, spec, 6) // removed, and the run reports the expired list
	if s.installed("vm") != nil {
		t.Fatal("the image of an expired list is still installed")
	}
}

// TestTrustListVerifyRefusals: list verify names the one check that failed
// for a tampered, an expired and a wrongly endorsed list.
func TestTrustListVerifyRefusals(t *testing.T) {
	s := newSubscriber(t)
	l := s.newList(img{name: "vm", content: randomBytes(4<<10, 7)})
	now := time.Now()
	files := map[string][]byte{
		"good":     s.pki.valid(t, l, "1"),
		"tampered": flip(t, s.pki.valid(t, l, "1")),
		"expired":  s.pki.sign(t, s.pki.one, l, "1", now.Add(-10*24*time.Hour), now.Add(-24*time.Hour)),
		"wrong":    s.pki.sign(t, s.pki.two, l, "1", now.Add(-time.Hour), now.Add(24*time.Hour)),
	}
	tests := []struct {
		file       string
		wantCode   int
		wantFailed []string
	}{
		{"good", 0, nil},
		{"tampered", 1, []string{"signature"}},
		{"expired", 1, []string{"expires"}},
		{"wrong", 1, []string{"endorser"}},
	}
	for _, tt := range tests {
		path := s.path(tt.file + ".list")
		if err := os.WriteFile(path, files[tt.file], 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"list", "verify", path, "--ca-dir", s.pki.caDir, "--endorser-dn", e2eOneDN, "--endorser-ca", e2eRootDN}
		r := run(t, append(args, "--json")...)
		var out struct {
			File     string          `json:"file"`
			Accepted bool            `json:"accepted"`
			Format   string          `json:"format"`
			Signer   string          `json:"signer"`
			Issuer   string          `json:"issuer"`
			Checks   []trust.Check   `json:"checks"`
			List     json.RawMessage `json:"list"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%s: %v\n%s", tt.file, err, r)
		}
		var failed []string
		for _, c := range out.Checks {
			if !c.OK {
				failed = append(failed, c.Name)
			}
		}
		if r.code != tt.wantCode || out.Accepted != (tt.wantCode == 0) || out.File != path || out.Issuer != e2eRootDN ||
			out.Format == "" || len(out.List) == 0 {
			t.Errorf("%s: --json verdict: %s", tt.file, r)
		}
		if diff := cmp.Diff(tt.wantFailed, failed); diff != "" {
			t.Errorf("%s: failed checks (-want +got):\n%s", tt.file, diff)
		}
		text := run(t, args...)
		for _, name := range tt.wantFailed {
			if text.code != 1 || !strings.Contains(text.stdout, "FAIL  "+name) ||
				!strings.Contains(text.stdout, "Refused: 1 check(s) failed: "+name+".") {
				t.Errorf("%s: text verdict must name the %s check:\n%s", tt.file, name, text)
			}
		}
	}
}

// TestTrustPlan200Images times `plan` over a signed 200-image list and 200
// endorsed image blocks (the images need not exist: plan fetches nothing).
// The time is logged for the record, never asserted.
func TestTrustPlan200Images(t *testing.T) {
	s := newSubscriber(t)
	l := s.newList()
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = fmt.Sprintf("img-%03d", i)
		content := []byte("image " + ids[i])
		s5 := sha512.Sum512(content)
		l.Images = append(l.Images, trust.ListImage{ID: ids[i], Title: "Image " + ids[i], Size: 8 << 30, Version: "1",
			URI: "file://" + s.path("published", ids[i]+".img"), SHA512: hex.EncodeToString(s5[:]),
			SHA256: img{content: content}.digest(), Arch: "x86_64", OS: "Linux", OSVersion: "EL9", Hypervisor: "kvm"})
	}
	s.publish(s.pki.valid(t, l, "1"))
	spec := s.spec("", ids...)
	for _, pass := range []string{"first (fetch, verify, remember)", "second (verify, rollback check)"} {
		start := time.Now()
		r := run(t, "plan", "--detailed-exitcodes", spec)
		took := time.Since(start)
		if r.code != 2 || !strings.Contains(r.stdout, "Plan: 200 to fetch, 0 to replace, 0 to remove.") {
			t.Fatalf("plan: %s", r)
		}
		t.Logf("plan, 200-image list, %s: %v", pass, took)
	}
}
