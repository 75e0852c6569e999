package trust

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/prestaged/prestaged/spec"
)

// farFuture widens the signer's validity for the signature check alone:
// pkcs7 refuses a signing time outside the certificate's validity, which is
// checked separately (and against now) by checkCertValidity.
var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// checkSignature finds which candidate the signature covers, and sets
// r.Content to it (to the first candidate when none verifies).
func (r *Report) checkSignature(s *Signed) Check {
	widened := *r.Signer
	widened.NotBefore, widened.NotAfter = time.Time{}, farFuture
	p7 := *s.P7
	p7.Certificates = []*x509.Certificate{&widened}
	var firstErr error
	for _, c := range s.Candidates {
		p7.Content = c
		err := p7.Verify()
		if err == nil {
			r.Content = c
			return pass(CheckSignature, fmt.Sprintf("valid over %d signed bytes", len(c)))
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	r.Content = s.Candidates[0]
	return fail(CheckSignature, ErrBadSignature, fmt.Sprintf("the signature does not match the signed content: %v", firstErr))
}

func checkDigest(p7 *pkcs7.PKCS7, allowSHA1 bool) Check {
	oid := p7.Signers[0].DigestAlgorithm.Algorithm
	name := map[string]string{
		pkcs7.OIDDigestAlgorithmSHA1.String():   "SHA-1",
		pkcs7.OIDDigestAlgorithmSHA256.String(): "SHA-256",
		pkcs7.OIDDigestAlgorithmSHA384.String(): "SHA-384",
		pkcs7.OIDDigestAlgorithmSHA512.String(): "SHA-512",
		pkcs7.OIDDigestAlgorithmSHA224.String(): "SHA-224",
	}[oid.String()]
	switch {
	case name == "":
		return fail(CheckDigest, ErrBadSignature, fmt.Sprintf("unsupported digest algorithm %s", oid))
	case name == "SHA-1" && !allowSHA1:
		return fail(CheckDigest, ErrSHA1, "signed with SHA-1, which allow_sha1 does not permit")
	}
	return pass(CheckDigest, name)
}

func (r *Report) checkList() Check {
	js, err := ListJSON(r.Content)
	if err != nil {
		return fail(CheckList, ErrMalformed, err.Error())
	}
	l, err := ParseList(js)
	if err == nil {
		err = l.Validate()
	}
	if err != nil {
		return fail(CheckList, ErrMalformed, err.Error())
	}
	r.List = l
	return pass(CheckList, fmt.Sprintf("%q (dc:identifier %s), %d image(s)", l.Title, l.ID, len(l.Images)))
}

// checkCA checks the chain to ca_dir and each certificate of it against
// the CRLs there.
func (r *Report) checkCA(p7 *pkcs7.PKCS7, pol Policy, now time.Time) []Check {
	if pol.CADir == "" {
		rev := skip(CheckRevocation, ErrNoCRL, "not checked: no CA directory given")
		if pol.CRL == spec.CRLOff {
			rev = revocationOff()
		}
		return []Check{skip(CheckChain, ErrUntrustedSigner, "not checked: no CA directory given"), rev}
	}
	ca, err := loadCADir(pol.CADir)
	if err != nil {
		rev := skip(CheckRevocation, ErrNoCRL, "not checked: the CA directory is unreadable")
		if pol.CRL == spec.CRLOff {
			rev = revocationOff()
		}
		return []Check{fail(CheckChain, ErrUntrustedSigner, err.Error()), rev}
	}
	chk, chain := checkChain(ca, pol.CADir, r.Signer, p7.Certificates, now)
	return append([]Check{chk}, checkRevocations(ca, chain, pol.CRL, now)...)
}

// checkChain verifies that signer chains to a trust anchor in ca_dir, and
// returns the chain (signer first) when it does.
func checkChain(ca *caDir, dir string, signer *x509.Certificate, bag []*x509.Certificate, now time.Time) (Check, []*x509.Certificate) {
	inter := ca.intermediates.Clone()
	for _, c := range bag {
		if c != signer {
			inter.AddCert(c)
		}
	}
	// The signer's own validity is checkCertValidity's verdict: the chain
	// is checked at now with the signer's validity widened, so the two
	// stay distinct (the chain's signatures cover RawTBSCertificate).
	widened := *signer
	widened.NotBefore, widened.NotAfter = time.Time{}, farFuture
	chains, err := widened.Verify(x509.VerifyOptions{
		Roots: ca.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		detail := fmt.Sprintf("%s does not chain to a CA in %s: %v", oneLine(signer.RawSubject), dir, err)
		if len(ca.skipped) > 0 {
			detail += fmt.Sprintf(" (unreadable there: %s)", strings.Join(ca.skipped, ", "))
		}
		return fail(CheckChain, ErrUntrustedSigner, detail), nil
	}
	chain := chains[0]
	root := chain[len(chain)-1]
	return pass(CheckChain, fmt.Sprintf("chains to %s in %s", oneLine(root.RawSubject), dir)), chain
}

func checkCertValidity(c *x509.Certificate, now time.Time) Check {
	switch {
	case now.After(c.NotAfter):
		return fail(CheckValidity, ErrCertExpired, fmt.Sprintf("certificate of %s expired on %s",
			oneLine(c.RawSubject), c.NotAfter.UTC().Format(dateLayout)))
	case now.Before(c.NotBefore):
		return fail(CheckValidity, ErrCertExpired, fmt.Sprintf("certificate of %s is not valid before %s",
			oneLine(c.RawSubject), c.NotBefore.UTC().Format(dateLayout)))
	}
	return pass(CheckValidity, "valid until "+c.NotAfter.UTC().Format(dateLayout))
}

func (r *Report) checkEndorser(pol Policy) Check {
	var bad []string
	for _, w := range []struct {
		what, got, want, source string
		required                bool
	}{
		{"signer", r.SignerDN, pol.EndorserDN, "endorser_dn", false},
		{"issuer", r.IssuerDN, pol.EndorserCA, "endorser_ca", false},
		{"signer", r.SignerDN, r.List.Endorser.DN, "the list's hv:dn", true},
		{"issuer", r.IssuerDN, r.List.Endorser.CA, "the list's hv:ca", true},
	} {
		switch {
		case w.want == "" && w.required:
			bad = append(bad, w.source+" is missing")
		case w.want != "" && !SameDN(w.got, w.want):
			bad = append(bad, fmt.Sprintf("%s %s is not %s %s", w.what, w.got, w.source, w.want))
		}
	}
	if len(bad) > 0 {
		return fail(CheckEndorser, ErrWrongEndorser, strings.Join(bad, "; "))
	}
	detail := fmt.Sprintf("signed by %s, issued by %s", r.SignerDN, r.IssuerDN)
	if pol.EndorserDN == "" || pol.EndorserCA == "" {
		detail += " (matches the list's hv:endorser; no endorser_dn/endorser_ca given)"
	}
	return pass(CheckEndorser, detail)
}

func checkListID(l *List, want string) Check {
	switch {
	case want == "":
		return pass(CheckListID, "dc:identifier "+l.ID+" (list_id not pinned)")
	case l.ID != want:
		return fail(CheckListID, ErrWrongListID, fmt.Sprintf("dc:identifier is %s, list_id pins %s", l.ID, want))
	}
	return pass(CheckListID, "dc:identifier "+l.ID)
}

func checkCreated(l *List, now time.Time) Check {
	switch {
	case l.Created.IsZero():
		return fail(CheckCreated, ErrMalformed, "the list has no dc:date:created")
	case l.Created.After(now.Add(ClockSkew)):
		return fail(CheckCreated, ErrNotYetValid, fmt.Sprintf("dc:date:created %s is %s in the future",
			l.Created.Format(dateLayout), l.Created.Sub(now).Round(time.Second)))
	}
	return pass(CheckCreated, "created "+l.Created.Format(dateLayout))
}

func checkExpires(l *List, now time.Time) Check {
	switch {
	case l.Expires.IsZero():
		return fail(CheckExpires, ErrMalformed, "the list has no dc:date:expires")
	case !now.Before(l.Expires):
		return fail(CheckExpires, ErrExpired, fmt.Sprintf("the list expired on %s (dc:date:expires)",
			l.Expires.Format(dateLayout)))
	}
	return pass(CheckExpires, "expires "+l.Expires.Format(dateLayout))
}

func (r *Report) checkVersion(last *Remembered) Check {
	l := r.List
	switch {
	case l.Version == "":
		return fail(CheckVersion, ErrMalformed, "the list has no hv:version")
	case last == nil:
		return pass(CheckVersion, "hv:version "+l.Version+" (no list accepted before)")
	case last.ListID != "" && last.ListID != l.ID:
		return fail(CheckVersion, ErrWrongListID, fmt.Sprintf(
			"dc:identifier changed from %s (last accepted) to %s; if that is intended, pin list_id or remove the remembered copy",
			last.ListID, l.ID))
	}
	switch c := CompareVersions(l.Version, last.Version); {
	case c < 0:
		return fail(CheckVersion, ErrRollback, fmt.Sprintf("hv:version %s is lower than %s, accepted on %s",
			l.Version, last.Version, last.AcceptedAt.UTC().Format(dateLayout)))
	case c == 0 && last.ContentSHA256 != r.ContentSHA256:
		return fail(CheckVersion, ErrRollback, fmt.Sprintf(
			"hv:version %s equals the last accepted one but the content differs; the endorser must raise hv:version", l.Version))
	}
	return pass(CheckVersion, fmt.Sprintf("hv:version %s (last accepted %s)", l.Version, last.Version))
}

func oneLine(raw []byte) string {
	s, err := OneLineDN(raw)
	if err != nil {
		return "(unreadable name)"
	}
	return s
}
