package trust

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The real list signed in 2011 by hepixvmitrust (see testdata/README.md).
const realList = "testdata/hepixvmitrust-readme-2011.smime"

func TestRealList2011(t *testing.T) {
	raw, err := os.ReadFile(realList)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		pol        Policy
		now        time.Time
		wantFailed []string
	}{
		{"today, SHA-1 refused", Policy{}, time.Now(),
			[]string{CheckDigest, CheckValidity, CheckChain, CheckRevocation, CheckExpires}},
		{"today, SHA-1 allowed, empty ca_dir", Policy{AllowSHA1: true, CADir: t.TempDir()}, time.Now(),
			[]string{CheckValidity, CheckChain, CheckRevocation, CheckExpires}},
		{"while the certificate was valid", Policy{AllowSHA1: true, CADir: t.TempDir()},
			time.Date(2011, 1, 20, 0, 0, 0, 0, time.UTC),
			[]string{CheckChain, CheckRevocation, CheckCreated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pol.ListURL = "https://example.org/example-image-list.image_list"
			r := Inspect(raw, tt.pol, tt.now)
			if diff := cmp.Diff(tt.wantFailed, checkNames(r.Failed())); diff != "" {
				t.Errorf("failed checks (-want +got):\n%s\nreport: %+v", diff, r.Checks)
			}
			if r.SignerDN != "/C=DE/O=GermanGrid/OU=DESY/CN=Owen Synge" || r.IssuerDN != "/C=DE/O=GermanGrid/CN=GridKa-CA" {
				t.Errorf("signer %q issuer %q", r.SignerDN, r.IssuerDN)
			}
		})
	}
	_, err = Verify(raw, Policy{AllowSHA1: true, CADir: t.TempDir(), ListURL: "https://example.org/l"}, time.Now())
	if !errors.Is(err, ErrExpired) || !errors.Is(err, ErrCertExpired) {
		t.Fatalf("Verify(real 2011 list) = %v, want ErrExpired and ErrCertExpired", err)
	}
	for _, want := range []string{"Owen Synge", "expired on 2011-04-07T17:09:12Z", "https://example.org/l"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
}

func checkNames(cs []Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}
