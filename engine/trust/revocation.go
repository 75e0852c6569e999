package trust

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/prestaged/prestaged/spec"
)

// Revocation verdicts of one certificate of the chain (Check.Status).
const (
	RevocationOK           = "ok"            // a current CRL of its issuer does not list it
	RevocationRevoked      = "revoked"       // a current CRL of its issuer lists it
	RevocationExpired      = "expired"       // every CRL of its issuer is past its nextUpdate
	RevocationNotYetValid  = "not-yet-valid" // every CRL of its issuer has a thisUpdate in the future
	RevocationMissing      = "missing"       // no CRL of its issuer in ca_dir
	RevocationBadSignature = "bad-signature" // CRLs name its issuer, but none is signed by the issuer's key
	RevocationOff          = "off"           // not checked: crl = "off"
)

// checkRevocations checks every certificate of chain (signer first, the
// trust anchor last, as `openssl -crl_check_all` does) against the CRLs of
// its issuer in ca_dir. The signer's verdict is CheckRevocation, each CA's
// CheckRevocationCA. A nil chain (the signer does not chain to ca_dir)
// leaves revocation unchecked.
func checkRevocations(ca *caDir, chain []*x509.Certificate, mode string, now time.Time) []Check {
	if mode == spec.CRLOff {
		return []Check{revocationOff()}
	}
	if len(chain) == 0 {
		return []Check{skip(CheckRevocation, ErrUntrustedSigner, "not checked: the signer does not chain to a CA in ca_dir")}
	}
	out := make([]Check, 0, len(chain))
	for i, c := range chain {
		issuer := c // the trust anchor is checked against its own CRL
		if i+1 < len(chain) {
			issuer = chain[i+1]
		}
		name := CheckRevocation
		if i > 0 {
			name = CheckRevocationCA
		}
		status, note := ca.crlStatus(c, issuer, now)
		out = append(out, revocationCheck(name, oneLine(c.RawSubject), status, note, mode))
	}
	return out
}

func revocationOff() Check {
	c := pass(CheckRevocation, `not checked: crl = "off"`)
	c.Status = RevocationOff
	return c
}

// revocationCheck turns a certificate's CRL status into a verdict: only a
// missing CRL under crl = "optional" passes without an ok.
func revocationCheck(name, subject, status, note, mode string) Check {
	detail := fmt.Sprintf("%s: %s: %s", subject, status, note)
	var c Check
	switch {
	case status == RevocationOK:
		c = pass(name, detail)
	case status == RevocationMissing && mode == spec.CRLOptional:
		c = pass(name, detail+` (accepted: crl = "optional")`)
	case status == RevocationRevoked:
		c = fail(name, ErrRevoked, detail)
	default:
		c = fail(name, ErrNoCRL, detail)
	}
	c.Subject, c.Status = subject, status
	return c
}

// crlStatus says whether c is revoked by a current CRL of issuer in ca_dir.
// A CRL counts only when issuer's key signed it; a CRL past its nextUpdate
// (or before its thisUpdate, beyond the clock skew) is not current, and is
// ignored when a current one exists, as OpenSSL picks the best CRL.
func (ca *caDir) crlStatus(c, issuer *x509.Certificate, now time.Time) (string, string) {
	of := oneLine(issuer.RawSubject)
	named := 0
	var current []*x509.RevocationList
	var latestExpiry time.Time
	early := false
	for _, crl := range ca.crls {
		if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
			continue
		}
		named++
		if crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		switch {
		case now.Add(ClockSkew).Before(crl.ThisUpdate):
			early = true
		case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
			if crl.NextUpdate.After(latestExpiry) {
				latestExpiry = crl.NextUpdate
			}
		default:
			current = append(current, crl)
		}
	}
	switch {
	case len(current) > 0:
		return revokedIn(c, current, of)
	case !latestExpiry.IsZero():
		return RevocationExpired, fmt.Sprintf("the CRL of %s in ca_dir expired on %s (nextUpdate)",
			of, latestExpiry.UTC().Format(dateLayout))
	case early:
		return RevocationNotYetValid, fmt.Sprintf("the CRL of %s in ca_dir is not valid yet (thisUpdate in the future)", of)
	case named > 0:
		return RevocationBadSignature, fmt.Sprintf("%d CRL(s) in ca_dir name %s as issuer, but its key signed none", named, of)
	}
	note := fmt.Sprintf("no CRL of %s in ca_dir", of)
	if len(ca.skipped) > 0 {
		note += fmt.Sprintf(" (unreadable there: %s)", strings.Join(ca.skipped, ", "))
	}
	return RevocationMissing, note
}

func revokedIn(c *x509.Certificate, crls []*x509.RevocationList, of string) (string, string) {
	next := time.Time{}
	for _, crl := range crls {
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				return RevocationRevoked, fmt.Sprintf("serial %X revoked on %s by the CRL of %s",
					c.SerialNumber, e.RevocationTime.UTC().Format(dateLayout), of)
			}
		}
		if crl.NextUpdate.After(next) {
			next = crl.NextUpdate
		}
	}
	note := fmt.Sprintf("serial %X not in the CRL of %s", c.SerialNumber, of)
	if !next.IsZero() {
		note += ", next update " + next.UTC().Format(dateLayout)
	}
	return RevocationOK, note
}
