package trust

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSignedMalformed(t *testing.T) {
	const hdr = "MIME-Version: 1.0\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=\"b\"\n\n"
	tests := []struct{ name, raw string }{
		{"empty", ""},
		{"plain JSON", `{"hv:imagelist": {}}`},
		{"text/plain", "Content-Type: text/plain\n\nhello\n"},
		{"bad Content-Type", "Content-Type: ;;\n\n"},
		{"no boundary", "Content-Type: multipart/signed\n\n--b\nx\n--b--\n"},
		{"truncated", hdr + "--b\n{}\n--b\nContent-Type: application/pkcs7-signature\n\n"},
		{"one part", hdr + "--b\n{}\n--b--\n"},
		{"three parts", hdr + "--b\n{}\n--b\n\nx\n--b\n\ny\n--b--\n"},
		{"bad base64", hdr + "--b\n{}\n--b\nContent-Transfer-Encoding: base64\n\n!!!!\n--b--\n"},
		{"not PKCS#7", hdr + "--b\n{}\n--b\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n--b--\n"},
		{"unknown encoding", hdr + "--b\n{}\n--b\nContent-Transfer-Encoding: x-uu\n\nx\n--b--\n"},
		{"DER garbage", "\x30\x03\x02\x01\x01"},
		{"PEM garbage", "-----BEGIN PKCS7-----\nnot base64\n"},
		{"headers without body", "Content-Type: application/pkcs7-mime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseSigned([]byte(tt.raw)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSigned = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSplitMultipart(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"LF", "preamble\n--b\n{a}\n--b\nsig\n--b--\n", []string{"{a}", "sig"}},
		{"CRLF", "--b\r\n{a}\r\nx\r\n--b \r\nsig\r\n--b--", []string{"{a}\r\nx", "sig"}},
		{"part keeps its own last line end", "--b\n{a}\r\n\n--b\nsig\n--b--\n", []string{"{a}\r\n", "sig"}},
		{"boundary-like lines inside", "--b\n--bx\n--b\nsig\n--b--\n", []string{"--bx", "sig"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := splitMultipart([]byte(tt.body), "b")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range parts {
				got = append(got, string(p))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListJSON(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"bare", "\r\n{\"a\":1}\r\n", "{\"a\":1}\r\n"},
		{"with -text headers", "Content-Type: text/plain\r\n\r\n{\"a\":1}\r\n", "{\"a\":1}\r\n"},
		{"quoted-printable", "Content-Transfer-Encoding: quoted-printable\n\n{\"a\":=31}", "{\"a\":1}"},
	}
	for _, tt := range tests {
		got, err := ListJSON([]byte(tt.content))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if string(got) != tt.want {
			t.Errorf("%s: ListJSON = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestOneLineDN(t *testing.T) {
	tests := []struct {
		name string
		rdns pkix.RDNSequence
		want string
	}{
		{"grid", pkix.Name{Country: []string{"DE"}, Organization: []string{"GermanGrid"}, OrganizationalUnit: []string{"DESY"},
			CommonName: "Owen Synge"}.ToRDNSequence(), "/C=DE/O=GermanGrid/OU=DESY/CN=Owen Synge"},
		{"domain components in order", pkix.RDNSequence{
			{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "ch"}},
			{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "cern"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "image-endorser"}},
			{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "e@cern.ch"}},
		}, "/DC=ch/DC=cern/CN=image-endorser/emailAddress=e@cern.ch"},
		{"UTF-8 escaped", pkix.Name{CommonName: "Jürgen"}.ToRDNSequence(), `/CN=J\xC3\xBCrgen`},
		{"unknown attribute", pkix.RDNSequence{{{Type: asn1.ObjectIdentifier{1, 2, 3}, Value: "x"}}}, "/1.2.3=x"},
	}
	for _, tt := range tests {
		der, err := asn1.Marshal(tt.rdns)
		if err != nil {
			t.Fatal(err)
		}
		got, err := OneLineDN(der)
		if err != nil || got != tt.want {
			t.Errorf("%s: OneLineDN = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestSameDN(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"/C=CH/CN=a", "/C=CH/CN=a", true},
		{"/C=CH/CN=a/Email=x@y", "/C=CH/CN=a/emailAddress=x@y", true},
		{"/C=CH/CN=a/E=x@y", "/C=CH/CN=a/emailAddress=x@y ", true},
		{"/C=CH/CN=a", "/C=CH/CN=A", false},
		{"/C=CH/CN=a", "/CN=a/C=CH", false},
	}
	for _, tt := range tests {
		if got := SameDN(tt.a, tt.b); got != tt.want {
			t.Errorf("SameDN(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
