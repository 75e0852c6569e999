package trust

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"strings"

	"github.com/smallstep/pkcs7"
)

// Format names how a list was wrapped.
type Format string

const (
	FormatDetached Format = "multipart/signed" // openssl smime -sign
	FormatOpaque   Format = "pkcs7-mime"       // openssl smime|cms -sign -nodetach
	FormatDER      Format = "der"              // raw PKCS#7 SignedData
	FormatPEM      Format = "pem"              // -----BEGIN PKCS7----- or CMS
)

// Signed is a parsed, not yet verified, signed list.
type Signed struct {
	Format Format
	P7     *pkcs7.PKCS7
	// Candidates are the byte strings the signature may cover, the exact
	// bytes first. A detached S/MIME entity is canonicalised to CRLF line
	// ends by `openssl smime -sign` (but not with -binary), and files are
	// often converted between LF and CRLF after signing; the signature
	// decides which one was signed.
	Candidates [][]byte
}

// maxHeader bounds how far into a file headers are looked for.
const maxHeader = 64 << 10

// ParseSigned reads an S/MIME or PKCS#7 signed list without verifying it.
// Errors wrap ErrMalformed.
func ParseSigned(raw []byte) (*Signed, error) {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == 0x30:
		return opaque(FormatDER, trimmed)
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		blk, _ := pem.Decode(trimmed)
		if blk == nil {
			return nil, fmt.Errorf("%w: unreadable PEM block", ErrMalformed)
		}
		return opaque(FormatPEM, blk.Bytes)
	}
	hdr, body, err := readEntity(raw)
	if err != nil {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(hdr.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("%w: Content-Type %q: %w", ErrMalformed, hdr.Get("Content-Type"), err)
	}
	switch mt {
	case "multipart/signed":
		return detached(body, params["boundary"])
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		der, err := decodeBody(hdr, body)
		if err != nil {
			return nil, err
		}
		return opaque(FormatOpaque, der)
	}
	return nil, fmt.Errorf("%w: Content-Type %s is neither multipart/signed nor application/pkcs7-mime", ErrMalformed, mt)
}

func opaque(f Format, der []byte) (*Signed, error) {
	p7, err := parsePKCS7(der)
	if err != nil {
		return nil, err
	}
	if len(p7.Content) == 0 {
		return nil, fmt.Errorf("%w: the PKCS#7 signature carries no content (detached signature without its multipart/signed message?)", ErrMalformed)
	}
	return &Signed{Format: f, P7: p7, Candidates: [][]byte{p7.Content}}, nil
}

func parsePKCS7(der []byte) (p7 *pkcs7.PKCS7, err error) {
	defer func() { // the ASN.1 code of the parser is not hardened against every input
		if r := recover(); r != nil {
			p7, err = nil, fmt.Errorf("%w: PKCS#7: %v", ErrMalformed, r)
		}
	}()
	if err := checkBER(der); err != nil {
		return nil, err
	}
	p7, err = pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS#7: %w", ErrMalformed, err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("%w: PKCS#7 has %d signers, want exactly 1", ErrMalformed, len(p7.Signers))
	}
	if p7.GetOnlySigner() == nil {
		return nil, fmt.Errorf("%w: PKCS#7 does not carry the signer's certificate", ErrMalformed)
	}
	return p7, nil
}

func detached(body []byte, boundary string) (*Signed, error) {
	if boundary == "" {
		return nil, fmt.Errorf("%w: multipart/signed without a boundary", ErrMalformed)
	}
	parts, err := splitMultipart(body, boundary)
	if err != nil {
		return nil, err
	}
	if len(parts) != 2 {
		return nil, fmt.Errorf("%w: multipart/signed has %d parts, want 2", ErrMalformed, len(parts))
	}
	hdr, sigBody, err := readEntity(parts[1])
	if err != nil {
		return nil, err
	}
	der, err := decodeBody(hdr, sigBody)
	if err != nil {
		return nil, err
	}
	p7, err := parsePKCS7(der)
	if err != nil {
		return nil, err
	}
	return &Signed{Format: FormatDetached, P7: p7, Candidates: lineEndVariants(parts[0])}, nil
}

// splitMultipart returns the bytes of each body part: what lies between a
// delimiter line and the line end before the next delimiter (RFC 2046: that
// line end belongs to the delimiter).
func splitMultipart(body []byte, boundary string) ([][]byte, error) {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1
	for off := 0; off < len(body); {
		line, next := lineAt(body, off)
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t")
			closing := bytes.Equal(rest, []byte("--"))
			if len(rest) == 0 || closing {
				if start >= 0 {
					parts = append(parts, body[start:trimLineEnd(body, off, start)])
				}
				if closing {
					return parts, nil
				}
				start = next
			}
		}
		off = next
	}
	return nil, fmt.Errorf("%w: multipart/signed is truncated: no closing boundary", ErrMalformed)
}

// lineAt returns the line starting at off without its line end, and the
// offset of the next line.
func lineAt(b []byte, off int) (line []byte, next int) {
	i := bytes.IndexByte(b[off:], '\n')
	if i < 0 {
		return b[off:], len(b)
	}
	return bytes.TrimSuffix(b[off:off+i], []byte("\r")), off + i + 1
}

// trimLineEnd is the end of a part that ends just before the delimiter at
// off: the CRLF or LF before it is not part of the content.
func trimLineEnd(b []byte, off, start int) int {
	if off > start && b[off-1] == '\n' {
		off--
		if off > start && b[off-1] == '\r' {
			off--
		}
	}
	return off
}

// lineEndVariants returns b, then b with every line end as CRLF, then with
// every line end as LF, without duplicates.
func lineEndVariants(b []byte) [][]byte {
	lf := bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
	out := [][]byte{b}
	for _, v := range [][]byte{crlf, lf} {
		if !bytes.Equal(v, b) && (len(out) < 2 || !bytes.Equal(v, out[1])) {
			out = append(out, v)
		}
	}
	return out
}

// readEntity splits a MIME entity into its headers and body. An entity
// without headers (a blank first line, or none at all) has an empty header.
func readEntity(b []byte) (textproto.MIMEHeader, []byte, error) {
	r := textproto.NewReader(bufio.NewReader(io.LimitReader(bytes.NewReader(b), maxHeader)))
	hdr, err := r.ReadMIMEHeader()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: MIME headers: %w", ErrMalformed, err)
	}
	body, ok := afterHeaders(b)
	if !ok {
		return nil, nil, fmt.Errorf("%w: MIME headers without a blank line after them", ErrMalformed)
	}
	return hdr, body, nil
}

// afterHeaders finds the body after the first empty line.
func afterHeaders(b []byte) ([]byte, bool) {
	for off := 0; off < len(b); {
		line, next := lineAt(b, off)
		if len(line) == 0 {
			return b[next:], true
		}
		off = next
	}
	return nil, false
}

func decodeBody(hdr textproto.MIMEHeader, body []byte) ([]byte, error) {
	switch cte := strings.ToLower(strings.TrimSpace(hdr.Get("Content-Transfer-Encoding"))); cte {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, fmt.Errorf("%w: base64 body: %w", ErrMalformed, err)
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return nil, fmt.Errorf("%w: quoted-printable body: %w", ErrMalformed, err)
		}
		return out, nil
	case "", "7bit", "8bit", "binary":
		return body, nil
	default:
		return nil, fmt.Errorf("%w: unknown Content-Transfer-Encoding %q", ErrMalformed, cte)
	}
}

// ListJSON returns the JSON of a signed entity: the content itself when it
// is bare JSON, else the body of the MIME entity (`openssl smime -text`
// adds a Content-Type header).
func ListJSON(content []byte) ([]byte, error) {
	t := bytes.TrimLeft(content, " \t\r\n\xef\xbb\xbf")
	if len(t) > 0 && t[0] == '{' {
		return t, nil
	}
	hdr, body, err := readEntity(content)
	if err != nil {
		return nil, err
	}
	return decodeBody(hdr, body)
}
