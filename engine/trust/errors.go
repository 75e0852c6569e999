package trust

import (
	"errors"
	"fmt"
	"strings"
)

// Each refusal of a list wraps exactly the sentinels of the checks that
// failed; test them with errors.Is.
var (
	ErrMalformed       = errors.New("malformed image list")
	ErrBadSignature    = errors.New("bad signature")
	ErrSHA1            = errors.New("SHA-1 signature refused")
	ErrUntrustedSigner = errors.New("untrusted signer")
	ErrCertExpired     = errors.New("signer certificate not valid now")
	ErrRevoked         = errors.New("signer certificate revoked")
	ErrNoCRL           = errors.New("no current CRL")
	ErrWrongEndorser   = errors.New("wrong endorser")
	ErrWrongListID     = errors.New("wrong list identifier")
	ErrNotYetValid     = errors.New("list not yet valid")
	ErrExpired         = errors.New("list expired")
	ErrRollback        = errors.New("list rolled back")

	// ErrFetch is returned by Resolve when the list could not be fetched
	// and no remembered copy is still valid.
	ErrFetch = errors.New("image list unavailable")
)

// hints say what an operator can do about each refusal.
var hints = map[error]string{
	ErrMalformed:       "the file is not an S/MIME-signed HEPiX image list; check the list URL",
	ErrBadSignature:    "the list was altered after signing or damaged in transit; do not use it",
	ErrSHA1:            "ask the endorser to re-sign with SHA-256, or set allow_sha1 = true",
	ErrUntrustedSigner: "install the endorser's CA in ca_dir, or check that the list comes from the endorser you trust",
	ErrCertExpired:     "the endorser must re-sign the list with a currently valid certificate",
	ErrRevoked:         "the endorser's certificate, or a CA that issued it, was revoked; do not use this list",
	ErrNoCRL:           "run fetch-crl so that ca_dir holds a current CRL of every CA of the chain; a site without CRLs can set crl = \"optional\" or \"off\" in the trust block",
	ErrWrongEndorser:   "check endorser_dn and endorser_ca of the trust block against the signer",
	ErrWrongListID:     "check list_id of the trust block; the URL serves a different list",
	ErrNotYetValid:     "check this host's clock (NTP), or wait until the list becomes valid",
	ErrExpired:         "ask the endorser to publish a freshly signed list",
	ErrRollback:        "an older or replayed list was served; the last accepted list stays in force",
}

// Refusal is the error of a list that failed one or more checks. It names
// the list and the endorser, and unwraps to each failed check's sentinel.
type Refusal struct {
	URL      string  // where the list came from, for messages
	Endorser string  // the signer's DN, or the expected one when unknown
	Failed   []Check // the checks that failed, in check order
}

func (r *Refusal) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "image list %s", orUnknown(r.URL))
	if r.Endorser != "" {
		fmt.Fprintf(&b, " endorsed by %s", r.Endorser)
	}
	b.WriteString(" refused")
	hinted := map[error]bool{}
	for i, c := range r.Failed {
		sep := ": "
		if i > 0 {
			sep = "; "
		}
		fmt.Fprintf(&b, "%s%v: %s", sep, c.Err, c.Detail)
		if h := hints[c.Err]; h != "" && !hinted[c.Err] {
			hinted[c.Err] = true
			fmt.Fprintf(&b, " (%s)", h)
		}
	}
	return b.String()
}

// Unwrap lets errors.Is find every failed check's sentinel.
func (r *Refusal) Unwrap() []error {
	errs := make([]error, 0, len(r.Failed))
	for _, c := range r.Failed {
		errs = append(errs, c.Err)
	}
	return errs
}

func orUnknown(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}
