package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// The test PKI's names, as a trust block spells them.
const (
	rootDN     = "/C=CH/O=Packaging Test/CN=Packaging Root CA"
	endorserDN = "/C=CH/O=Packaging Test/CN=Image Endorser"
)

// endorserConf is the least openssl needs to issue a root CA and an S/MIME
// signing certificate.
const endorserConf = `[ req ]
distinguished_name = dn
[ dn ]
[ root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ endorser ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
`

// endorser is a root CA in a hashed ca_dir (dir/certificates, as fetch-crl
// keeps it) and an endorser's certificate it issued.
type endorser struct{ dir string }

func newEndorser(t *testing.T, dir string) endorser {
	t.Helper()
	testutil.Need(t, "openssl")
	e := endorser{dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "certificates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "openssl.cnf"), []byte(endorserConf), 0o644); err != nil {
		t.Fatal(err)
	}
	key := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-config", "openssl.cnf"}
	e.openssl(t, append([]string{"req", "-x509", "-extensions", "root", "-subj", rootDN, "-days", "2",
		"-keyout", "root.key", "-out", "root.pem"}, key...)...)
	e.openssl(t, append([]string{"req", "-new", "-subj", endorserDN, "-keyout", "endorser.key", "-out", "endorser.csr"}, key...)...)
	e.openssl(t, "x509", "-req", "-in", "endorser.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
		"-days", "2", "-extfile", "openssl.cnf", "-extensions", "endorser", "-out", "endorser.pem")
	hash := e.openssl(t, "x509", "-hash", "-noout", "-in", "root.pem")
	root, err := os.ReadFile(filepath.Join(dir, "root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "certificates", hash+".0"), root, 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e endorser) openssl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = e.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// publish writes to list a list endorsing image under id, with the image
// file's own URL as where subscribers download it, signed with
// `prestaged list sign`.
func (e endorser) publish(t *testing.T, image, id, list string) {
	t.Helper()
	bin := artifacts.Get(t).binary
	unsigned := filepath.Join(e.dir, "list.json")
	out := run(t, bin, "list", "new", "--title", "packaging test images", "--uri", "file://"+list)
	if err := os.WriteFile(unsigned, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, bin, "list", "add-image", unsigned, image, "--id", id, "--title", id, "--uri", "file://"+image)
	signed := run(t, bin, "list", "sign", unsigned, "--cert", filepath.Join(e.dir, "endorser.pem"),
		"--key", filepath.Join(e.dir, "endorser.key"), "--days", "1")
	if err := os.WriteFile(list, []byte(signed), 0o644); err != nil {
		t.Fatal(err)
	}
}
