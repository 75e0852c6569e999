package trust

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

const testListID = "7d7c7a5e-3a4b-4f3a-9c1e-0b1f2a3c4d5e"

// testList is a valid list endorsed by s, created an hour before now.
func testList(s signer, now time.Time, images int) *List {
	l := &List{
		Created: now.Add(-time.Hour).UTC().Truncate(time.Second),
		Expires: now.Add(7 * 24 * time.Hour).UTC().Truncate(time.Second),
		ID:      testListID, Title: "Test images", Description: "images for the trust tests",
		Source: "test.example.org", URI: "https://test.example.org/lists/test.list", Version: "3",
		Endorser: Endorser{Creator: "Endorser", CA: s.ca, DN: s.dn, Email: "endorser@example.org"},
		Images:   []ListImage{},
	}
	for i := range images {
		content := fmt.Sprintf("image %d", i)
		s512, s256 := sha512.Sum512([]byte(content)), sha256.Sum256([]byte(content))
		l.Images = append(l.Images, ListImage{
			ID: fmt.Sprintf("img-%04d", i), Title: fmt.Sprintf("Image %d", i), Size: int64(len(content)),
			URI: fmt.Sprintf("https://test.example.org/img-%04d.img", i), Version: "1",
			SHA512: hex.EncodeToString(s512[:]), SHA256: hex.EncodeToString(s256[:]),
			Arch: "x86_64", OS: "Linux", OSVersion: "EL9", Hypervisor: "kvm",
		})
	}
	return l
}

func marshal(t testing.TB, l *List) []byte {
	t.Helper()
	b, err := l.MarshalIndent()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Ways openssl signs a list.
const (
	modeSMIME       = "smime"
	modeSMIMEBinary = "smime-binary"
	modeSMIMESHA1   = "smime-sha1"
	modeSMIMEOpaque = "smime-nodetach"
	modeCMSOpaque   = "cms-nodetach"
	modeCMSDER      = "cms-der"
	modeCMSPEM      = "cms-pem"
)

var modeArgs = map[string][]string{
	modeSMIME:       {"smime", "-sign"},
	modeSMIMEBinary: {"smime", "-sign", "-binary"},
	modeSMIMESHA1:   {"smime", "-sign", "-md", "sha1"},
	modeSMIMEOpaque: {"smime", "-sign", "-nodetach"},
	modeCMSOpaque:   {"cms", "-sign", "-nodetach"},
	modeCMSDER:      {"cms", "-sign", "-nodetach", "-outform", "DER"},
	modeCMSPEM:      {"cms", "-sign", "-nodetach", "-outform", "PEM"},
}

// opensslSign signs content as signer s with openssl in the given mode.
func opensslSign(t testing.TB, p *pki, s signer, content []byte, mode string) []byte {
	t.Helper()
	args := append(append([]string{}, modeArgs[mode]...), "-signer", s.cert, "-inkey", s.key)
	return testutil.OpenSSLSign(t, p.dir, content, args...)
}

func loadSigner(t testing.TB, s signer) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	c, err := os.ReadFile(s.cert)
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(s.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := LoadSigner(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}
