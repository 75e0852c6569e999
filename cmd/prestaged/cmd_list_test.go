package main_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// endorserPKI writes a CA (as ca_dir/ca.pem), its CRL (as ca_dir/0123abcd.r0:
// prestaged does not check the hash) and an endorser's certificate and key,
// made in Go so this test needs no openssl.
func endorserPKI(t *testing.T) (caDir, certPath, keyPath string) {
	t.Helper()
	dir := t.TempDir()
	caDir = filepath.Join(dir, "certificates")
	if err := os.Mkdir(caDir, 0o755); err != nil {
		t.Fatal(err)
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, eeKey := newKey(), newKey()
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), IsCA: true, BasicConstraintsValid: true,
		Subject:   pkix.Name{Country: []string{"CH"}, Organization: []string{"CLI Grid"}, CommonName: "CLI CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	ee := &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject:   pkix.Name{Country: []string{"CH"}, Organization: []string{"CLI Grid"}, CommonName: "CLI Endorser"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	eeDER, err := x509.CreateCertificate(rand.Reader, ee, ca, eeKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(eeKey)
	if err != nil {
		t.Fatal(err)
	}
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour)}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "endorser.pem"), filepath.Join(dir, "endorser.key")
	for path, blk := range map[string]*pem.Block{
		filepath.Join(caDir, "ca.pem"):      {Type: "CERTIFICATE", Bytes: caDER},
		filepath.Join(caDir, "0123abcd.r0"): {Type: "X509 CRL", Bytes: crlDER},
		certPath:                            {Type: "CERTIFICATE", Bytes: eeDER},
		keyPath:                             {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caDir, certPath, keyPath
}

// TestListEndorserFlow: new, add-image, sign, verify, then the verdicts on
// a tampered and a wrongly endorsed list.
func TestListEndorserFlow(t *testing.T) {
	caDir, cert, key := endorserPKI(t)
	dir := t.TempDir()
	list, image, signed := filepath.Join(dir, "cli.json"), filepath.Join(dir, "cli.img"), filepath.Join(dir, "cli.list")
	if err := os.WriteFile(image, bytes.Repeat([]byte("image"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "list", "new", "--title", "CLI images", "--id", "cli-list", "--uri", "https://x/cli.list")
	if r.code != 0 {
		t.Fatal(r)
	}
	os.WriteFile(list, []byte(r.stdout), 0o644)
	if r := run(t, "list", "add-image", list, image, "--id", "img", "--title", "CLI image"); r.code != 0 ||
		!strings.Contains(r.stdout, "image img version 1") {
		t.Fatal(r)
	}
	r = run(t, "list", "sign", list, "--cert", cert, "--key", key, "--days", "7")
	if r.code != 0 || !strings.Contains(r.stderr, "signed hv:version 1 by /C=CH/O=CLI Grid/CN=CLI Endorser") {
		t.Fatal(r)
	}
	os.WriteFile(signed, []byte(r.stdout), 0o644)

	verify := func(file string, extra ...string) (result, map[string]bool) {
		args := append([]string{"list", "verify", file, "--ca-dir", caDir, "--endorser-ca", "/C=CH/O=CLI Grid/CN=CLI CA",
			"--endorser-dn", "/C=CH/O=CLI Grid/CN=CLI Endorser", "--json"}, extra...)
		r := run(t, args...)
		var out struct {
			Accepted bool
			Checks   []struct {
				Name string
				OK   bool
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, r)
		}
		failed := map[string]bool{}
		for _, c := range out.Checks {
			if !c.OK {
				failed[c.Name] = true
			}
		}
		return r, failed
	}
	tampered := filepath.Join(dir, "tampered.list")
	os.WriteFile(tampered, bytes.Replace([]byte(r.stdout), []byte("CLI image"), []byte("CLI imagE"), 1), 0o644)
	tests := []struct {
		name       string
		file       string
		extra      []string
		wantCode   int
		wantFailed map[string]bool
	}{
		{"signed by list sign", signed, nil, 0, map[string]bool{}},
		{"tampered", tampered, nil, 1, map[string]bool{"signature": true}},
		{"wrong endorser", signed, []string{"--endorser-dn", "/C=CH/O=CLI Grid/CN=Someone Else"}, 1, map[string]bool{"endorser": true}},
	}
	for _, tt := range tests {
		r, failed := verify(tt.file, tt.extra...)
		if r.code != tt.wantCode {
			t.Errorf("%s: %v", tt.name, r)
		}
		if diff := cmp.Diff(tt.wantFailed, failed); diff != "" {
			t.Errorf("%s: failed checks (-want +got):\n%s", tt.name, diff)
		}
	}
	r = run(t, "list", "verify", tampered, "--ca-dir", caDir)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL  signature") || !strings.Contains(r.stdout, "Refused: 1 check(s) failed: signature.") {
		t.Errorf("text verdict on a tampered list:\n%v", r)
	}
}
