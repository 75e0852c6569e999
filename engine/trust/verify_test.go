package trust

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVerify(t *testing.T) {
	p := needPKI(t)
	now := time.Now()
	tests := []struct {
		name       string
		signer     signer
		mode       string
		list       func(*List)
		policy     func(*Policy)
		tamper     func(testing.TB, []byte) []byte
		wantFailed []string
		wantErr    error
	}{
		{name: "smime detached", mode: modeSMIME},
		{name: "smime detached -binary", mode: modeSMIMEBinary},
		{name: "smime detached, file converted to LF", mode: modeSMIME, tamper: toLF},
		{name: "smime -binary, file converted to CRLF", mode: modeSMIMEBinary, tamper: toCRLF},
		{name: "smime opaque", mode: modeSMIMEOpaque},
		{name: "cms opaque", mode: modeCMSOpaque},
		{name: "cms DER", mode: modeCMSDER},
		{name: "cms PEM", mode: modeCMSPEM},
		{name: "SHA-1 allowed", mode: modeSMIMESHA1, policy: func(p *Policy) { p.AllowSHA1 = true }},
		{name: "SHA-1 refused", mode: modeSMIMESHA1, wantFailed: []string{CheckDigest}, wantErr: ErrSHA1},
		{name: "content byte flipped", mode: modeSMIME, tamper: flipContent,
			wantFailed: []string{CheckSignature}, wantErr: ErrBadSignature},
		{name: "opaque content byte flipped", mode: modeCMSDER, tamper: flipContent,
			wantFailed: []string{CheckSignature}, wantErr: ErrBadSignature},
		{name: "signature byte flipped", mode: modeSMIME, tamper: flipSignature,
			wantFailed: []string{CheckSignature}, wantErr: ErrBadSignature},
		{name: "second endorser, policy wants the first", signer: p.two,
			wantFailed: []string{CheckEndorser}, wantErr: ErrWrongEndorser},
		{name: "list names the first endorser, second signed", signer: p.two,
			list:       func(l *List) { l.Endorser.DN = endorserDN },
			policy:     func(p *Policy) { p.EndorserDN = endorser2DN },
			wantFailed: []string{CheckEndorser}, wantErr: ErrWrongEndorser},
		{name: "wrong endorser_ca", policy: func(p *Policy) { p.EndorserCA = "/C=CH/O=Test Grid/CN=Other CA" },
			wantFailed: []string{CheckEndorser}, wantErr: ErrWrongEndorser},
		{name: "revoked endorser", signer: p.revoked, policy: func(p *Policy) { p.EndorserDN = revokedDN },
			wantFailed: []string{CheckRevocation}, wantErr: ErrRevoked},
		{name: "expired certificate", signer: p.expired, policy: func(p *Policy) { p.EndorserDN = expiredDN },
			wantFailed: []string{CheckValidity}, wantErr: ErrCertExpired},
		{name: "CA not in ca_dir", signer: p.rogue, wantFailed: []string{CheckChain, CheckRevocation}, wantErr: ErrUntrustedSigner},
		{name: "no ca_dir", policy: func(p *Policy) { p.CADir = "" },
			wantFailed: []string{CheckChain, CheckRevocation}, wantErr: ErrUntrustedSigner},
		{name: "missing ca_dir", policy: func(p *Policy) { p.CADir = "/nonexistent/certificates" },
			wantFailed: []string{CheckChain, CheckRevocation}, wantErr: ErrUntrustedSigner},
		{name: "created in the future", list: func(l *List) { l.Created = now.Add(time.Hour) },
			wantFailed: []string{CheckCreated}, wantErr: ErrNotYetValid},
		{name: "created within the clock skew", list: func(l *List) { l.Created = now.Add(2 * time.Minute) }},
		{name: "expired list", list: func(l *List) { l.Expires = now.Add(-time.Minute) },
			wantFailed: []string{CheckExpires}, wantErr: ErrExpired},
		{name: "wrong list id", policy: func(p *Policy) { p.ListID = "00000000-0000-0000-0000-000000000000" },
			wantFailed: []string{CheckListID}, wantErr: ErrWrongListID},
		{name: "image without sha512", list: func(l *List) { l.Images[1].SHA512 = "" },
			wantFailed: []string{CheckList}, wantErr: ErrMalformed},
		{name: "not signed at all", tamper: func(testing.TB, []byte) []byte { return []byte(`{"hv:imagelist": {}}`) },
			wantFailed: []string{CheckFormat}, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.signer
			if s.cert == "" {
				s = p.one
			}
			l := testList(s, now, 2)
			if tt.list != nil {
				tt.list(l)
			}
			mode := tt.mode
			if mode == "" {
				mode = modeSMIME
			}
			raw := opensslSign(t, p, s, marshal(t, l), mode)
			if tt.tamper != nil {
				raw = tt.tamper(t, raw)
			}
			pol := Policy{CADir: p.caDir, EndorserDN: endorserDN, EndorserCA: rootDN, ListID: testListID,
				ListURL: "https://test.example.org/lists/test.list"}
			if tt.policy != nil {
				tt.policy(&pol)
			}
			r := Inspect(raw, pol, now)
			if diff := cmp.Diff(tt.wantFailed, checkNames(r.Failed())); diff != "" {
				t.Fatalf("failed checks (-want +got):\n%s\n%+v", diff, r.Checks)
			}
			v, err := Verify(raw, pol, now)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(l.Images, v.List.Images, cmp.AllowUnexported(ListImage{})); diff != "" {
					t.Errorf("images (-signed +verified):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), pol.ListURL) {
				t.Errorf("message %q does not name the list", err)
			}
		})
	}
}

func toLF(_ testing.TB, b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }

func toCRLF(t testing.TB, b []byte) []byte {
	return bytes.ReplaceAll(toLF(t, b), []byte("\n"), []byte("\r\n"))
}

// flipContent changes one byte of the list's title, in clear text or in
// DER (opaque signatures carry the content unencoded).
func flipContent(t testing.TB, b []byte) []byte {
	i := bytes.Index(b, []byte("Test images"))
	if i < 0 {
		t.Fatal("no title to flip")
	}
	out := bytes.Clone(b)
	out[i] ^= 0x20
	return out
}

// flipSignature flips the last byte of the detached signature: the end of
// the signature value itself.
func flipSignature(t testing.TB, b []byte) []byte {
	const marker = "filename=\"smime.p7s\"\n\n"
	i := bytes.Index(b, []byte(marker))
	if i < 0 {
		t.Fatal("no detached signature")
	}
	start := i + len(marker)
	end := start + bytes.Index(b[start:], []byte("\n\n"))
	der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b[start:end]), "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	der[len(der)-1] ^= 0x01
	out := append(bytes.Clone(b[:start]), base64.StdEncoding.EncodeToString(der)...)
	return append(out, b[end:]...)
}

func TestVerifyRollback(t *testing.T) {
	p := needPKI(t)
	now := time.Now()
	sign := func(version, title string) []byte {
		l := testList(p.one, now, 1)
		l.Version, l.Title = version, title
		return opensslSign(t, p, p.one, marshal(t, l), modeSMIME)
	}
	pol := Policy{CADir: p.caDir, EndorserDN: endorserDN, EndorserCA: rootDN}
	first := sign("1.10", "Test images")
	v, err := Verify(first, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	pol.LastAccepted = remember("t", "u", v, "", "", now)
	tests := []struct {
		name    string
		raw     []byte
		listID  string
		wantErr error
	}{
		{"the same list again", first, "", nil},
		{"higher version", sign("1.11", "Test images"), "", nil},
		{"lower version", sign("1.9", "Test images"), "", ErrRollback},
		{"equal version, other content", sign("1.10", "Test imageS"), "", ErrRollback},
		{"another list", first, "11111111-2222-3333-4444-555555555555", ErrWrongListID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := pol
			if tt.listID != "" {
				last := *pol.LastAccepted
				last.ListID = tt.listID
				pol.LastAccepted = &last
			}
			_, err := Verify(tt.raw, pol, now)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
