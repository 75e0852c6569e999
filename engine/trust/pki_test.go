package trust

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// The test PKI, made once per test binary with openssl.
const (
	rootDN      = "/C=CH/O=Test Grid/CN=Test Root CA"
	endorserDN  = "/C=CH/O=Test Grid/OU=Images/CN=Endorser One"
	endorser2DN = "/C=CH/O=Test Grid/OU=Images/CN=Endorser Two"
	revokedDN   = "/C=CH/O=Test Grid/OU=Images/CN=Revoked Endorser"
	expiredDN   = "/C=CH/O=Test Grid/OU=Images/CN=Expired Endorser"
)

// signer is a certificate and key in PEM files.
type signer struct {
	cert, key string
	dn, ca    string
}

type pki struct {
	dir                        string
	caDir                      string // hashed directory: the root and its CRL
	root                       string // the root certificate, for -CAfile
	one, two, revoked, expired signer // one: ECDSA, two: RSA
	rogue                      signer // endorserDN, issued by a CA named like the root but not in caDir
}

func TestMain(m *testing.M) { testutil.Main(m) }

var sharedPKI = testutil.Shared[*pki]{What: "test PKI", Pattern: "trust-pki-", Make: makePKI}

// needPKI returns the shared test PKI, skipping (failing under CI=true)
// when openssl is missing.
func needPKI(t testing.TB) *pki {
	t.Helper()
	testutil.Need(t, "openssl")
	return sharedPKI.Get(t)
}

// testCAConf is the openssl.cnf section of the root, whose files are in %s.
const testCAConf = `
[ ca ]
default_ca = testca
[ testca ]
dir = %s
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/root.pem
private_key = $dir/root.key
default_md = sha256
default_crl_days = 30
policy = anything
preserve = yes
unique_subject = no
x509_extensions = endorser_ext
`

func makePKI(dir string) (*pki, error) {
	p := &pki{dir: dir, caDir: filepath.Join(dir, "certificates"), root: filepath.Join(dir, "root.pem")}
	cnf := filepath.Join(dir, "openssl.cnf")
	files := map[string]string{cnf: testutil.OpenSSLConf + fmt.Sprintf(testCAConf, dir), "index.txt": "", "serial": "1000\n", "crlnumber": "1000\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"newcerts", "certificates"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	day := 24 * time.Hour
	var err error
	run := func(args ...string) {
		if err == nil {
			_, err = testutil.OpenSSL(dir, args...)
		}
	}
	run("req", "-x509", "-config", cnf, "-extensions", "v3_ca", "-newkey", "rsa:2048", "-nodes",
		"-keyout", "root.key", "-out", "root.pem", "-subj", rootDN, "-days", "3650")
	ec := testutil.ECKey
	issue := func(name, dn string, from, to time.Time, key ...string) signer {
		run(append(append([]string{"req", "-new", "-config", cnf}, key...), "-nodes",
			"-keyout", name+".key", "-out", name+".csr", "-subj", dn)...)
		run("ca", "-config", cnf, "-batch", "-notext", "-in", name+".csr", "-out", name+".pem",
			"-startdate", from.Format("20060102150405Z"), "-enddate", to.Format("20060102150405Z"))
		return signer{cert: filepath.Join(dir, name+".pem"), key: filepath.Join(dir, name+".key"), dn: dn, ca: rootDN}
	}
	p.one = issue("one", endorserDN, now.Add(-day), now.Add(365*day), ec...)
	p.two = issue("two", endorser2DN, now.Add(-day), now.Add(365*day), "-newkey", "rsa:2048")
	p.revoked = issue("revoked", revokedDN, now.Add(-day), now.Add(365*day), ec...)
	p.expired = issue("expired", expiredDN, now.Add(-60*day), now.Add(-30*day), ec...)
	run("ca", "-config", cnf, "-revoke", "revoked.pem")
	run("ca", "-config", cnf, "-gencrl", "-out", "root.crl")
	p.rogue = makeRogue(dir, cnf, run)
	if err != nil {
		return nil, err
	}
	return p, hashDir(dir, p.caDir)
}

// makeRogue issues a certificate for endorserDN from a CA that has the
// root's name but another key, and is not in the CA directory.
func makeRogue(dir, cnf string, run func(...string)) signer {
	run(append([]string{"req", "-x509", "-config", cnf, "-extensions", "v3_ca", "-nodes", "-keyout", "rogue-ca.key",
		"-out", "rogue-ca.pem", "-subj", rootDN, "-days", "30"}, testutil.ECKey...)...)
	run(append([]string{"req", "-new", "-config", cnf, "-nodes", "-keyout", "rogue.key", "-out", "rogue.csr",
		"-subj", endorserDN}, testutil.ECKey...)...)
	run("x509", "-req", "-in", "rogue.csr", "-CA", "rogue-ca.pem", "-CAkey", "rogue-ca.key", "-CAcreateserial",
		"-days", "30", "-extfile", cnf, "-extensions", "endorser_ext", "-out", "rogue.pem")
	return signer{cert: filepath.Join(dir, "rogue.pem"), key: filepath.Join(dir, "rogue.key"), dn: endorserDN, ca: rootDN}
}

// hashDir makes an OpenSSL hashed directory: <hash>.0 and <hash>.r0.
func hashDir(dir, caDir string) error {
	if err := testutil.InstallHashed(dir, caDir, "root.pem", false); err != nil {
		return err
	}
	return testutil.InstallHashed(dir, caDir, "root.crl", true)
}
