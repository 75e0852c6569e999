package trust

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// A two-level PKI for the revocation cases, made with `openssl ca` so that
// revocations and CRLs are openssl's own (v2 CRLs, with a CRL number): a root, an intermediate it
// issued, endorsers issued by each, and a fake root with the root's name.
const (
	crlRootDN  = "/C=CH/O=CRL Grid/CN=CRL Root CA"
	crlInterDN = "/C=CH/O=CRL Grid/CN=CRL Intermediate CA"
)

// crlCAConf is an openssl.cnf section for the CA name, its files name.*.
const crlCAConf = `
[ %[1]s ]
database = %[1]s.idx
crlnumber = %[1]s.crlnum
new_certs_dir = newcerts
serial = %[1]s.srl
certificate = %[1]s.pem
private_key = %[1]s.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = anything
unique_subject = no
`

var crlOpenSSLConf = testutil.OpenSSLConf + fmt.Sprintf(crlCAConf, "root") + fmt.Sprintf(crlCAConf, "inter") + `
[ v3_inter ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ fake ]
database = fake.idx
crlnumber = fake.crlnum
default_md = sha256
default_crl_days = 30
`

// crlPKI holds the files of the revocation PKI, by name in dir.
type crlPKI struct {
	dir                   string
	direct, leaf, revoked signer // issued by the root; by the intermediate; by it and revoked
}

func makeCRLPKI(t *testing.T) *crlPKI {
	t.Helper()
	testutil.Need(t, "openssl")
	dir := t.TempDir()
	p := &crlPKI{dir: dir}
	for name, content := range map[string]string{"openssl.cnf": crlOpenSSLConf, "root.idx": "", "inter.idx": "",
		"fake.idx": "", "root.srl": "2000\n", "inter.srl": "3000\n", "root.crlnum": "01\n", "inter.crlnum": "01\n",
		"fake.crlnum": "01\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "newcerts"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		testutil.OpenSSLT(t, dir, args...)
	}
	ec := append([]string{"-nodes", "-config", "openssl.cnf"}, testutil.ECKey...)
	selfSigned := func(name, dn string) {
		run(append([]string{"req", "-x509", "-extensions", "v3_ca", "-keyout", name + ".key", "-out", name + ".pem",
			"-subj", dn, "-days", "30"}, ec...)...)
	}
	issue := func(ca, name, dn, ext string) signer {
		run(append([]string{"req", "-new", "-keyout", name + ".key", "-out", name + ".csr", "-subj", dn}, ec...)...)
		run("ca", "-config", "openssl.cnf", "-name", ca, "-batch", "-notext", "-extensions", ext,
			"-in", name+".csr", "-out", name+".pem")
		return signer{cert: filepath.Join(dir, name+".pem"), key: filepath.Join(dir, name+".key"), dn: dn}
	}
	gencrl := func(ca, out string, extra ...string) {
		run(append([]string{"ca", "-config", "openssl.cnf", "-name", ca, "-gencrl", "-out", out}, extra...)...)
	}
	selfSigned("root", crlRootDN)
	issue("root", "inter", crlInterDN, "v3_inter")
	p.direct = issue("root", "direct", "/C=CH/O=CRL Grid/OU=Images/CN=Direct Endorser", "endorser_ext")
	p.direct.ca = crlRootDN
	p.leaf = issue("inter", "leaf", "/C=CH/O=CRL Grid/OU=Images/CN=Chained Endorser", "endorser_ext")
	p.revoked = issue("inter", "revoked", "/C=CH/O=CRL Grid/OU=Images/CN=Revoked Endorser", "endorser_ext")
	p.leaf.ca, p.revoked.ca = crlInterDN, crlInterDN

	gencrl("root", "root.crl")
	gencrl("root", "root-2024.crl", "-crl_lastupdate", "20240101000000Z", "-crl_nextupdate", "20240201000000Z")
	gencrl("inter", "inter.crl")
	run("ca", "-config", "openssl.cnf", "-name", "root", "-revoke", "inter.pem")
	gencrl("root", "root-revokes-inter.crl")
	run("ca", "-config", "openssl.cnf", "-name", "inter", "-revoke", "revoked.pem")
	gencrl("inter", "inter-revokes-endorser.crl")

	// A CRL that names the root as issuer but is signed by another key.
	selfSigned("fake", crlRootDN)
	gencrl("fake", "root-forged.crl", "-keyfile", "fake.key", "-cert", "fake.pem")
	return p
}

// caDir makes an OpenSSL hashed directory of the given certificates and
// CRLs (files of p.dir): <hash>.<n> and <hash>.r<n>.
func (p *crlPKI) caDir(t *testing.T, certs, crls []string) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range certs {
		testutil.Must(t, testutil.AddHashed(p.dir, dir, c, false))
	}
	for _, c := range crls {
		testutil.Must(t, testutil.AddHashed(p.dir, dir, c, true))
	}
	return dir
}

// opensslAccepts is openssl's verdict on a signed list, with the given
// revocation flags (-crl_check_all, or none).
func opensslAccepts(t *testing.T, caDir string, signed []byte, flags ...string) (bool, string) {
	t.Helper()
	in := filepath.Join(t.TempDir(), "list.smime")
	if err := os.WriteFile(in, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"smime", "-verify", "-CApath", caDir, "-in", in, "-out", os.DevNull}, flags...)
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return err == nil, string(out)
}

// TestRevocationMatchesOpenSSL: for each state of the CRLs in ca_dir,
// prestaged accepts a list exactly when `openssl smime -verify -CApath
// ca_dir -crl_check_all` does (for crl = "optional" with no CRL and for
// crl = "off", when openssl without CRL checks does), and says why per
// certificate.
func TestRevocationMatchesOpenSSL(t *testing.T) {
	p := makeCRLPKI(t)
	now := time.Now()
	checkAll := []string{"-crl_check_all"}
	both := []string{"root.pem", "inter.pem"}
	tests := []struct {
		name      string
		signer    signer
		certfile  bool // ship the intermediate in the signature, not in ca_dir
		certs     []string
		crls      []string
		mode      string
		openssl   []string // openssl's revocation flags for the same question
		want      []string // "check status" of each revocation check
		wantAccpt bool
	}{
		{name: "valid CRL, signer issued by the root", signer: p.direct, certs: both, crls: []string{"root.crl"},
			openssl: checkAll, want: []string{"revocation ok", "revocation-ca ok"}, wantAccpt: true},
		{name: "valid CRLs, chain through the intermediate", signer: p.leaf, certs: both,
			crls: []string{"root.crl", "inter.crl"}, openssl: checkAll,
			want: []string{"revocation ok", "revocation-ca ok", "revocation-ca ok"}, wantAccpt: true},
		{name: "valid CRLs, intermediate carried in the signature", signer: p.leaf, certfile: true,
			certs: []string{"root.pem"}, crls: []string{"root.crl", "inter.crl"}, openssl: checkAll,
			want: []string{"revocation ok", "revocation-ca ok", "revocation-ca ok"}, wantAccpt: true},
		{name: "expired CRL (nextUpdate in 2024)", signer: p.direct, certs: both, crls: []string{"root-2024.crl"},
			openssl: checkAll, want: []string{"revocation expired", "revocation-ca expired"}},
		{name: "expired CRL of the root above an intermediate", signer: p.leaf, certs: both,
			crls: []string{"root-2024.crl", "inter.crl"}, openssl: checkAll,
			want: []string{"revocation ok", "revocation-ca expired", "revocation-ca expired"}},
		{name: "expired CRL beside a current one", signer: p.direct, certs: both,
			crls: []string{"root-2024.crl", "root.crl"}, openssl: checkAll,
			want: []string{"revocation ok", "revocation-ca ok"}, wantAccpt: true},
		{name: "expired CRL, crl optional", signer: p.direct, certs: both, crls: []string{"root-2024.crl"},
			mode: spec.CRLOptional, openssl: checkAll, want: []string{"revocation expired", "revocation-ca expired"}},
		{name: "expired CRL, crl off", signer: p.direct, certs: both, crls: []string{"root-2024.crl"},
			mode: spec.CRLOff, want: []string{"revocation off"}, wantAccpt: true},
		{name: "intermediate revoked by the root's CRL", signer: p.leaf, certs: both,
			crls: []string{"root-revokes-inter.crl", "inter.crl"}, openssl: checkAll,
			want: []string{"revocation ok", "revocation-ca revoked", "revocation-ca ok"}},
		{name: "signer revoked by the intermediate's CRL", signer: p.revoked, certs: both,
			crls: []string{"root.crl", "inter-revokes-endorser.crl"}, openssl: checkAll,
			want: []string{"revocation revoked", "revocation-ca ok", "revocation-ca ok"}},
		{name: "signer revoked, crl optional", signer: p.revoked, certs: both,
			crls: []string{"root.crl", "inter-revokes-endorser.crl"}, mode: spec.CRLOptional, openssl: checkAll,
			want: []string{"revocation revoked", "revocation-ca ok", "revocation-ca ok"}},
		{name: "no CRL, crl required", signer: p.direct, certs: both, openssl: checkAll,
			want: []string{"revocation missing", "revocation-ca missing"}},
		{name: "no CRL of the intermediate, crl required", signer: p.leaf, certs: both, crls: []string{"root.crl"},
			openssl: checkAll, want: []string{"revocation missing", "revocation-ca ok", "revocation-ca ok"}},
		{name: "no CRL, crl optional", signer: p.leaf, certs: both, mode: spec.CRLOptional,
			want: []string{"revocation missing", "revocation-ca missing", "revocation-ca missing"}, wantAccpt: true},
		{name: "no CRL, crl off", signer: p.leaf, certs: both, mode: spec.CRLOff,
			want: []string{"revocation off"}, wantAccpt: true},
		{name: "CRL not signed by the root's key", signer: p.direct, certs: both, crls: []string{"root-forged.crl"},
			openssl: checkAll, want: []string{"revocation bad-signature", "revocation-ca bad-signature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := p.caDir(t, tt.certs, tt.crls)
			signed := p.sign(t, tt.signer, tt.certfile, now)
			okOpenSSL, out := opensslAccepts(t, dir, signed, tt.openssl...)
			if okOpenSSL != tt.wantAccpt {
				t.Fatalf("openssl smime -verify %v: accepted = %v, want %v\n%s", tt.openssl, okOpenSSL, tt.wantAccpt, out)
			}
			r := Inspect(signed, Policy{CADir: dir, CRL: tt.mode, ListURL: "test.list"}, now)
			var got []string
			for _, c := range r.Checks {
				if c.Name == CheckRevocation || c.Name == CheckRevocationCA {
					got = append(got, c.Name+" "+c.Status)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("revocation checks (-want +got):\n%s\n%+v", diff, r.Checks)
			}
			if accepted := r.Err() == nil; accepted != okOpenSSL {
				t.Errorf("prestaged accepted = %v, openssl %v (%s): %v", accepted, okOpenSSL, out, r.Err())
			}
		})
	}
}

// sign signs a valid list as s with `openssl smime -sign`, with the
// intermediate in the signature when certfile is set.
func (p *crlPKI) sign(t *testing.T, s signer, certfile bool, now time.Time) []byte {
	t.Helper()
	args := []string{"smime", "-sign", "-signer", s.cert, "-inkey", s.key}
	if certfile {
		args = append(args, "-certfile", "inter.pem")
	}
	return testutil.OpenSSLSign(t, p.dir, marshal(t, testList(s, now, 1)), args...)
}
