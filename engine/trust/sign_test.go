package trust

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prestaged/prestaged/internal/testutil"
)

func writeImage(t testing.TB, size int) (string, []byte) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	p := filepath.Join(t.TempDir(), "image.img")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func TestAddImage(t *testing.T) {
	path, content := writeImage(t, 3<<20+17) // crosses the 1 MiB buffer
	l := NewList(NewListOptions{Title: "t"})
	l.Images = append(l.Images, ListImage{ID: "keep", Title: "other", SHA512: sha512Hex})
	im, err := AddImage(context.Background(), l, path, ImageOptions{ID: "img", Title: "Image", URI: "https://x/img"})
	if err != nil {
		t.Fatal(err)
	}
	s512, s256 := sha512.Sum512(content), sha256.Sum256(content)
	want := ListImage{ID: "img", Title: "Image", URI: "https://x/img", Size: int64(len(content)), Version: "1",
		SHA512: hex.EncodeToString(s512[:]), SHA256: hex.EncodeToString(s256[:])}
	if diff := cmp.Diff(want, *im, cmp.AllowUnexported(ListImage{})); diff != "" {
		t.Errorf("added image (-want +got):\n%s", diff)
	}
	// A new file under the same identifier replaces the entry and bumps its version.
	path2, _ := writeImage(t, 10)
	im, err = AddImage(context.Background(), l, path2, ImageOptions{ID: "img", Title: "Image v2"})
	if err != nil {
		t.Fatal(err)
	}
	got := []any{len(l.Images), im.Version, im.URI, im.Size}
	if diff := cmp.Diff([]any{2, "2", "https://x/img", int64(10)}, got); diff != "" {
		t.Errorf("replaced image (-want +got):\n%s", diff)
	}
	if _, err := AddImage(context.Background(), l, path, ImageOptions{ID: "x"}); err == nil {
		t.Error("AddImage without a title succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AddImage(ctx, l, path, ImageOptions{ID: "x", Title: "x"}); err == nil {
		t.Error("AddImage with a cancelled context succeeded")
	}
}

// TestSignVerifiesWithOpenSSL: what Sign writes is accepted by openssl
// (with and without -binary) and by Verify, and a second signature bumps
// the version past the remembered one.
func TestSignVerifiesWithOpenSSL(t *testing.T) {
	p := needPKI(t)
	now := time.Now()
	path, _ := writeImage(t, 1000)
	l := NewList(NewListOptions{ID: testListID, Title: "Signed by prestaged", URI: "https://x/list"})
	if _, err := AddImage(context.Background(), l, path, ImageOptions{ID: "img", Title: "Image"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []signer{p.one, p.two} {
		t.Run(s.dn, func(t *testing.T) {
			cert, key := loadSigner(t, s)
			l := *l
			raw, err := Sign(&l, cert, key, 30*24*time.Hour, now)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "list.smime")
			if err := os.WriteFile(f, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, extra := range [][]string{nil, {"-binary"}} {
				args := append([]string{"smime", "-verify", "-CAfile", p.root, "-in", f, "-out", f + ".out"}, extra...)
				testutil.OpenSSLT(t, p.dir, args...)
			}
			out, _ := os.ReadFile(f + ".out")
			js := marshal(t, &l)
			if !bytes.Equal(bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n")), js) {
				t.Errorf("openssl recovered %q, want %q", out, js)
			}
			pol := Policy{CADir: p.caDir, EndorserDN: s.dn, EndorserCA: rootDN, ListID: testListID}
			v, err := Verify(raw, pol, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&l, v.List, cmp.AllowUnexported(List{}, ListImage{}, Endorser{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("verified list (-signed +verified):\n%s", diff)
			}
			pol.LastAccepted = remember("t", "u", v, "", "", now)
			raw2, err := Sign(&l, cert, key, time.Hour, now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(raw2, pol, now); err != nil || l.Version != "2" {
				t.Fatalf("second signature: version %s, Verify = %v", l.Version, err)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	p := needPKI(t)
	cert, key := loadSigner(t, p.one)
	tests := []struct {
		name     string
		list     *List
		validity time.Duration
		wantErr  string
	}{
		{"no validity", NewList(NewListOptions{}), 0, "validity 0s must be positive"},
		{"bad version", &List{ID: "x", Version: "beta"}, time.Hour, `hv:version "beta" is not a dotted number`},
		{"bad image", &List{ID: "x", Images: []ListImage{{ID: "i"}}}, time.Hour, "sl:checksum:sha512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.list
			_, err := Sign(tt.list, cert, key, tt.validity, time.Now())
			if !testutil.ErrorContains(err, tt.wantErr) {
				t.Fatalf("Sign = %v, want an error saying %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(before, *tt.list, cmp.AllowUnexported(List{}, ListImage{}, Endorser{})); diff != "" {
				t.Errorf("a refused Sign changed the list:\n%s", diff)
			}
		})
	}
}

func TestLoadSignerMismatch(t *testing.T) {
	p := needPKI(t)
	c, _ := os.ReadFile(p.one.cert)
	k, _ := os.ReadFile(p.two.key)
	if _, _, err := LoadSigner(c, k); !testutil.ErrorContains(err, "does not belong") {
		t.Fatalf("LoadSigner(one's cert, two's key) = %v", err)
	}
}
