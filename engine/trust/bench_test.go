package trust

import (
	"testing"
	"time"
)

// BenchmarkVerifyIndex200 measures what a host does with a 200-image list
// on every run: parse the S/MIME, verify signature, chain, CRL and
// checks, and index the images by identifier.
func BenchmarkVerifyIndex200(b *testing.B) {
	p := needPKI(b)
	now := time.Now()
	l := testList(p.one, now, 200)
	l.Version = ""
	cert, key := loadSigner(b, p.one)
	raw, err := Sign(l, cert, key, 24*time.Hour, now)
	if err != nil {
		b.Fatal(err)
	}
	pol := Policy{CADir: p.caDir, EndorserDN: endorserDN, EndorserCA: rootDN, ListID: testListID}
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for b.Loop() {
		v, err := Verify(raw, pol, now)
		if err != nil {
			b.Fatal(err)
		}
		if a := accept("bench", "file:///bench", v, OriginFetched); len(a.Images) != 200 {
			b.Fatalf("%d images indexed", len(a.Images))
		}
	}
}
