package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// OpenSSLConf is the part of an openssl.cnf every test PKI shares: requests
// without prompts, a CA's extensions, an endorser's (a signer of S/MIME
// lists) and a policy that takes any subject. A PKI adds its [ ca ] sections.
const OpenSSLConf = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ endorser_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ anything ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
`

// ECKey are the openssl req options for a new P-256 key, quick to make.
var ECKey = []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"}

// OpenSSLT is OpenSSL that fails the test on error.
func OpenSSLT(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := OpenSSL(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// OpenSSLSign writes content to a file, has openssl sign it with args (such
// as "smime", "-sign", "-signer", ...) run in dir, and returns the output.
func OpenSSLSign(t testing.TB, dir string, content []byte, args ...string) []byte {
	t.Helper()
	tmp := t.TempDir()
	in, out := filepath.Join(tmp, "list.json"), filepath.Join(tmp, "list.smime")
	Must(t, os.WriteFile(in, content, 0o644))
	OpenSSLT(t, dir, append(args, "-in", in, "-out", out)...)
	b, err := os.ReadFile(out)
	Must(t, err)
	return b
}

// InstallHashed copies the certificate (or, with crl, the CRL) at dir/name
// into caDir as an OpenSSL hashed directory holds it, <hash>.0 (or
// <hash>.r0), replacing what was there as fetch-crl does.
func InstallHashed(dir, caDir, name string, crl bool) error {
	return installHashed(dir, caDir, name, crl, false)
}

// AddHashed is InstallHashed for a directory that holds several files with
// one hash: it writes <hash>.<n> (or <hash>.r<n>), n the first number free.
func AddHashed(dir, caDir, name string, crl bool) error {
	return installHashed(dir, caDir, name, crl, true)
}

func installHashed(dir, caDir, name string, crl, add bool) error {
	kind, suffix := "x509", ""
	if crl {
		kind, suffix = "crl", "r"
	}
	hash, err := OpenSSL(dir, kind, "-hash", "-noout", "-in", name)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	for n := 0; ; n++ {
		dst := filepath.Join(caDir, fmt.Sprintf("%s.%s%d", hash, suffix, n))
		if _, err := os.Stat(dst); !add || os.IsNotExist(err) {
			return os.WriteFile(dst, b, 0o644)
		}
	}
}
