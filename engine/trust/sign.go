package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
)

// Sign bumps l's hv:version, sets its dates (created now, expiring after
// validity) and its endorser from cert, and returns it as detached S/MIME
// (multipart/signed, SHA-256), as `openssl smime -sign` writes it: the
// content has CRLF line ends, so `openssl smime -verify` accepts it with
// or without -binary. l is changed only when signing succeeds.
func Sign(l *List, cert *x509.Certificate, key crypto.Signer, validity time.Duration, now time.Time) ([]byte, error) {
	if validity <= 0 {
		return nil, fmt.Errorf("sign list: validity %v must be positive", validity)
	}
	c := *l
	var err error
	if c.Version, err = BumpVersion(l.Version); err != nil {
		return nil, fmt.Errorf("sign list: %w", err)
	}
	c.Created = now.UTC().Truncate(time.Second)
	c.Expires = c.Created.Add(validity)
	if err := c.setEndorser(cert); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("sign list: %w", err)
	}
	js, err := c.MarshalIndent()
	if err != nil {
		return nil, fmt.Errorf("sign list: %w", err)
	}
	content := bytes.ReplaceAll(js, []byte("\n"), []byte("\r\n")) // JSON has no raw CR
	der, err := signDetached(content, cert, key)
	if err != nil {
		return nil, err
	}
	out, err := writeSMIME(content, der)
	if err != nil {
		return nil, err
	}
	*l = c
	return out, nil
}

func (l *List) setEndorser(cert *x509.Certificate) error {
	dn, err := OneLineDN(cert.RawSubject)
	if err != nil {
		return fmt.Errorf("sign list: certificate subject: %w", err)
	}
	ca, err := OneLineDN(cert.RawIssuer)
	if err != nil {
		return fmt.Errorf("sign list: certificate issuer: %w", err)
	}
	l.Endorser.DN, l.Endorser.CA = dn, ca
	setIf(&l.Endorser.Creator, cert.Subject.CommonName)
	if l.Endorser.Email == "" && len(cert.EmailAddresses) > 0 {
		l.Endorser.Email = cert.EmailAddresses[0]
	}
	return nil
}

func signDetached(content []byte, cert *x509.Certificate, key crypto.Signer) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("sign list: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("sign list with %s: %w", oneLine(cert.RawSubject), err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("sign list: %w", err)
	}
	return der, nil
}

// writeSMIME lays out multipart/signed as OpenSSL does.
func writeSMIME(content, der []byte) ([]byte, error) {
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	boundary := "----" + strings.ToUpper(hex.EncodeToString(rnd[:]))
	var b bytes.Buffer
	b.WriteString("MIME-Version: 1.0\n")
	fmt.Fprintf(&b, "Content-Type: multipart/signed; protocol=\"application/x-pkcs7-signature\"; micalg=\"sha-256\"; boundary=\"%s\"\n\n", boundary)
	b.WriteString("This is an S/MIME signed message\n\n")
	fmt.Fprintf(&b, "--%s\n", boundary)
	b.Write(content)
	fmt.Fprintf(&b, "\n--%s\n", boundary)
	b.WriteString("Content-Type: application/x-pkcs7-signature; name=\"smime.p7s\"\n")
	b.WriteString("Content-Transfer-Encoding: base64\n")
	b.WriteString("Content-Disposition: attachment; filename=\"smime.p7s\"\n\n")
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 64 {
		b.WriteString(enc[:64] + "\n")
		enc = enc[64:]
	}
	fmt.Fprintf(&b, "%s\n\n--%s--\n\n", enc, boundary)
	return b.Bytes(), nil
}

// LoadSigner reads an endorser's PEM certificate and unencrypted PEM key
// (PKCS#8, PKCS#1 or SEC 1) and checks that they belong together.
func LoadSigner(certPEM, keyPEM []byte) (*x509.Certificate, crypto.Signer, error) {
	blk, _ := pem.Decode(certPEM)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, nil, errors.New("endorser certificate: no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("endorser certificate: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("endorser key: %w", err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("endorser key does not belong to the certificate of %s", oneLine(cert.RawSubject))
	}
	return cert, key, nil
}

func parseKey(keyPEM []byte) (crypto.Signer, error) {
	blk, rest := pem.Decode(keyPEM)
	for blk != nil && !strings.HasSuffix(blk.Type, "PRIVATE KEY") { // skip EC PARAMETERS
		blk, rest = pem.Decode(rest)
	}
	switch {
	case blk == nil:
		return nil, errors.New("no PEM block")
	case blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "":
		return nil, errors.New("encrypted keys are not supported; decrypt it first (openssl pkey -in KEY -out PLAIN)")
	case blk.Type == "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(blk.Bytes)
	case blk.Type == "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(blk.Bytes)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("key type %T is not supported (use RSA or ECDSA)", k)
}
