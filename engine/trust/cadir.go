package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// An OpenSSL hashed directory names certificates <hash>.<n> and CRLs
// <hash>.r<n>; prestaged also reads *.pem certificates.
var (
	certName = regexp.MustCompile(`^[0-9a-f]{8}\.[0-9]+$|\.pem$`)
	crlName  = regexp.MustCompile(`^[0-9a-f]{8}\.r[0-9]+$`)
)

// caDir is what a ca_dir holds.
type caDir struct {
	roots         *x509.CertPool // self-signed certificates: trust anchors
	intermediates *x509.CertPool // the others, usable to build chains
	certs         []*x509.Certificate
	crls          []*x509.RevocationList
	skipped       []string // files that could not be read, for check details
}

// loadCADir reads the certificates and CRLs of dir. Unreadable files are
// skipped and named, as OpenSSL does: one broken CA must not stop the rest.
func loadCADir(dir string) (*caDir, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ca_dir: %w", err)
	}
	ca := &caDir{roots: x509.NewCertPool(), intermediates: x509.NewCertPool()}
	for _, e := range entries {
		name := e.Name()
		isCert, isCRL := certName.MatchString(name), crlName.MatchString(name)
		if !isCert && !isCRL {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			ca.skipped = append(ca.skipped, name)
			continue
		}
		if isCRL {
			err = ca.addCRLs(b)
		} else {
			err = ca.addCerts(b)
		}
		if err != nil {
			ca.skipped = append(ca.skipped, name)
		}
	}
	return ca, nil
}

func (ca *caDir) addCerts(b []byte) error {
	certs, err := parseBlocks(b, "CERTIFICATE", x509.ParseCertificate)
	for _, c := range certs {
		ca.certs = append(ca.certs, c)
		if bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil {
			ca.roots.AddCert(c)
		} else {
			ca.intermediates.AddCert(c)
		}
	}
	return err
}

func (ca *caDir) addCRLs(b []byte) error {
	crls, err := parseBlocks(b, "X509 CRL", x509.ParseRevocationList)
	ca.crls = append(ca.crls, crls...)
	return err
}

// parseBlocks parses each block of typ in b, stopping at the first that
// does not parse.
func parseBlocks[T any](b []byte, typ string, parse func([]byte) (T, error)) ([]T, error) {
	var out []T
	for _, der := range derBlocks(b, typ) {
		v, err := parse(der)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// derBlocks returns the PEM blocks of the given type in b, or b itself
// when it is not PEM (DER).
func derBlocks(b []byte, typ string) [][]byte {
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		return [][]byte{b}
	}
	var out [][]byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		if blk.Type == typ || (typ == "CERTIFICATE" && blk.Type == "TRUSTED CERTIFICATE") {
			out = append(out, blk.Bytes)
		}
	}
}
