package trust

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// shortNames are OpenSSL's short names for attribute types in DNs.
var shortNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.17":                   "postalCode",
	"2.5.4.41":                   "name",
	"2.5.4.42":                   "GN",
	"2.5.4.43":                   "initials",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "emailAddress",
}

// OneLineDN renders a DER-encoded X.509 name (Certificate.RawSubject or
// RawIssuer) in the OpenSSL one-line form used across the grid, in the
// certificate's own order: /C=DE/O=GermanGrid/OU=DESY/CN=Owen Synge.
// Bytes outside printable ASCII are written \xHH, as X509_NAME_oneline does.
func OneLineDN(raw []byte) (string, error) {
	var seq pkix.RDNSequence
	rest, err := asn1.Unmarshal(raw, &seq)
	if err != nil {
		return "", fmt.Errorf("%w: distinguished name: %w", ErrMalformed, err)
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("%w: trailing bytes after distinguished name", ErrMalformed)
	}
	var b strings.Builder
	for _, rdn := range seq {
		for _, atv := range rdn {
			name, ok := shortNames[atv.Type.String()]
			if !ok {
				name = atv.Type.String()
			}
			b.WriteString("/" + name + "=")
			writeEscaped(&b, fmt.Sprint(atv.Value))
		}
	}
	return b.String(), nil
}

func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' {
			fmt.Fprintf(b, `\x%02X`, c)
			continue
		}
		b.WriteByte(c)
	}
}

// aliases are spellings of attribute names that grid tools use
// interchangeably in one-line DNs.
var aliases = map[string]string{
	"E":      "emailAddress",
	"Email":  "emailAddress",
	"email":  "emailAddress",
	"USERID": "UID",
	"userid": "UID",
}

// SameDN compares two one-line DNs, allowing the usual aliases for the
// e-mail and user id attributes and surrounding white space.
func SameDN(a, b string) bool {
	return normalizeDN(a) == normalizeDN(b)
}

func normalizeDN(dn string) string {
	dn = strings.TrimSpace(dn)
	parts := strings.Split(dn, "/")
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		if a, ok := aliases[k]; ok {
			parts[i] = a + "=" + v
		}
	}
	return strings.Join(parts, "/")
}
