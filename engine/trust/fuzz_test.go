package trust

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// FuzzParse feeds the MIME, PKCS#7 and list parsers. They must not panic,
// must fail only with ErrMalformed, and a list they read must survive a
// write and a re-read unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range testutil.Files(f, "testdata/*") {
		if b, err := os.ReadFile(s); err == nil && filepath.Ext(s) != ".md" {
			f.Add(b)
		}
	}
	f.Add([]byte(appdbList))
	f.Add([]byte("Content-Type: multipart/signed; boundary=b\n\n--b\n{}\n--b\nContent-Transfer-Encoding: base64\n\nMAA=\n--b--\n"))
	f.Add([]byte("Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\nMAA=\n"))
	now := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSigned(data)
		switch {
		case err != nil && !errors.Is(err, ErrMalformed):
			t.Fatalf("ParseSigned error %v is not ErrMalformed", err)
		case err == nil:
			for _, c := range s.Candidates {
				if js, err := ListJSON(c); err == nil {
					roundTrip(t, js)
				}
			}
		}
		roundTrip(t, data)
		r := Inspect(data, Policy{}, now)
		if len(r.Checks) == 0 || r.Err() == nil && r.List == nil {
			t.Fatalf("Inspect gave no verdict: %+v", r.Checks)
		}
	})
}

func roundTrip(t *testing.T, js []byte) {
	l, err := ParseList(js)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("ParseList error %v is not ErrMalformed", err)
		}
		return
	}
	out, err := l.MarshalIndent()
	if err != nil {
		t.Fatalf("MarshalIndent of a parsed list: %v", err)
	}
	l2, err := ParseList(out)
	if err != nil {
		t.Fatalf("re-reading a written list: %v\n%s", err, out)
	}
	out2, err := l2.MarshalIndent()
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("write, read, write is not stable: %v\n%s\n---\n%s", err, out, out2)
	}
}
