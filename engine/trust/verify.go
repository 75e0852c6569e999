package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// ClockSkew is how far in the future dc:date:created may be.
const ClockSkew = 5 * time.Minute

// Policy is whom a list must come from and what it is compared with.
type Policy struct {
	CADir      string // OpenSSL hashed directory of trusted CAs and their CRLs
	EndorserDN string // the signer's subject, one-line form; "" = only the list's hv:dn
	EndorserCA string // the signer's issuer, one-line form; "" = only the list's hv:ca
	ListID     string // pinned dc:identifier; "" = any
	AllowSHA1  bool
	CRL        string // spec.CRLRequired, CRLOptional or CRLOff; "" = required
	ListURL    string // where the list came from, for messages

	// LastAccepted is the list accepted before, for rollback protection;
	// nil when there is none.
	LastAccepted *Remembered
}

// Check is the verdict of one check on a list.
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"` // not checked (no ca_dir given); counts as failed for Verify
	Detail  string `json:"detail"`
	Subject string `json:"subject,omitempty"` // the certificate a revocation check is about
	Status  string `json:"status,omitempty"`  // a revocation check's verdict: Revocation*
	Err     error  `json:"-"`                 // the sentinel, when not OK
}

// Names of the checks, in the order they run.
const (
	CheckFormat     = "format"
	CheckSignature  = "signature"
	CheckDigest     = "digest-algorithm"
	CheckList       = "list"
	CheckValidity   = "certificate-validity"
	CheckChain      = "chain"
	CheckRevocation = "revocation" // the signer against its issuer's CRL
	// CheckRevocationCA is each CA of the chain (intermediates, then the
	// trust anchor) against its issuer's CRL.
	CheckRevocationCA = "revocation-ca"
	CheckEndorser     = "endorser"
	CheckListID       = "list-id"
	CheckCreated      = "created"
	CheckExpires      = "expires"
	CheckVersion      = "version"
)

// Verified is a signed list as read. After Verify succeeds every field is
// set and List is endorsed.
type Verified struct {
	Raw           []byte // the file as fetched
	Format        Format
	List          *List
	Signer        *x509.Certificate
	SignerDN      string // OpenSSL one-line subject of the signer
	IssuerDN      string // OpenSSL one-line issuer of the signer
	Content       []byte // the exact bytes the signature covers
	ContentSHA256 string // hex
}

// Report is the result of every check on a list, for `prestaged list
// verify`. Fields of Verified are set as far as the file could be read.
type Report struct {
	Verified
	URL    string
	Checks []Check
}

// Verify runs every check on raw and returns the list when all pass, or a
// *Refusal naming the list, the endorser and each failed check (its
// sentinels match with errors.Is).
func Verify(raw []byte, pol Policy, now time.Time) (*Verified, error) {
	r := Inspect(raw, pol, now)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &r.Verified, nil
}

// Inspect runs every check that the file allows and records each verdict.
func Inspect(raw []byte, pol Policy, now time.Time) *Report {
	r := &Report{URL: pol.ListURL, Verified: Verified{Raw: raw}}
	s, err := ParseSigned(raw)
	if err != nil {
		r.add(fail(CheckFormat, ErrMalformed, err.Error()))
		return r
	}
	r.Format, r.Signer = s.Format, s.P7.GetOnlySigner()
	r.add(pass(CheckFormat, "S/MIME "+string(s.Format)))
	r.SignerDN, _ = OneLineDN(r.Signer.RawSubject)
	r.IssuerDN, _ = OneLineDN(r.Signer.RawIssuer)
	r.add(r.checkSignature(s))
	sum := sha256.Sum256(r.Content)
	r.ContentSHA256 = hex.EncodeToString(sum[:])
	r.add(checkDigest(s.P7, pol.AllowSHA1))
	r.add(r.checkList())
	r.add(checkCertValidity(r.Signer, now))
	r.add(r.checkCA(s.P7, pol, now)...)
	if r.List == nil {
		return r
	}
	r.add(r.checkEndorser(pol),
		checkListID(r.List, pol.ListID),
		checkCreated(r.List, now),
		checkExpires(r.List, now),
		r.checkVersion(pol.LastAccepted))
	return r
}

func (r *Report) add(cs ...Check) { r.Checks = append(r.Checks, cs...) }

// Failed returns the checks that failed, skipped ones included.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Err is nil when every check passed, else a *Refusal.
func (r *Report) Err() error {
	failed := r.Failed()
	if len(failed) == 0 {
		return nil
	}
	return &Refusal{URL: r.URL, Endorser: r.endorserName(), Failed: failed}
}

func (r *Report) endorserName() string {
	switch {
	case r.SignerDN != "":
		return r.SignerDN
	case r.List != nil:
		return r.List.Endorser.DN
	}
	return ""
}

func pass(name, detail string) Check { return Check{Name: name, OK: true, Detail: detail} }

func fail(name string, err error, detail string) Check {
	return Check{Name: name, Detail: detail, Err: err}
}

func skip(name string, err error, detail string) Check {
	return Check{Name: name, Skipped: true, Detail: detail, Err: err}
}
