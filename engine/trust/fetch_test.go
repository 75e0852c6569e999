package trust

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/spec"
)

// listServer serves one list with an ETag and records conditional requests.
type listServer struct {
	mu          sync.Mutex
	body        []byte
	etag        string
	conditional int
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("If-None-Match") == s.etag {
		s.conditional++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Write(s.body)
}

func (s *listServer) set(body []byte, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.etag = body, etag
}

func TestResolve(t *testing.T) {
	p := needPKI(t)
	now := time.Now()
	sign := func(version string, modify func(*List)) []byte {
		l := testList(p.one, now, 2)
		l.Version = version
		if modify != nil {
			modify(l)
		}
		return opensslSign(t, p, p.one, marshal(t, l), modeSMIME)
	}
	srv := &listServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	trust := &spec.Trust{Name: "cern", List: ts.URL + "/cern.list", CADir: p.caDir,
		EndorserDN: endorserDN, EndorserCA: rootDN, ListID: testListID}
	lists := t.TempDir()
	resolve := func(at time.Time) (*Accepted, []string, error) {
		return Resolve(context.Background(), trust, lists, at, ts.Client())
	}
	type outcome struct {
		Origin   Origin
		Version  string
		Warnings int
	}
	steps := []struct {
		name    string
		serve   []byte // nil: keep what is served
		etag    string
		down    bool
		at      time.Time
		want    *outcome
		wantErr error
	}{
		{name: "first fetch", serve: sign("3", nil), etag: `"v3"`, at: now, want: &outcome{OriginFetched, "3", 0}},
		{name: "not modified", at: now, want: &outcome{OriginNotModified, "3", 0}},
		{name: "newer list", serve: sign("4", nil), etag: `"v4"`, at: now, want: &outcome{OriginFetched, "4", 0}},
		{name: "rolled back list refused, old one in force", serve: sign("2", nil), etag: `"v2"`, at: now,
			want: &outcome{OriginRemembered, "4", 1}, wantErr: ErrRollback},
		{name: "forged list refused, old one in force", serve: flipContent(t, sign("5", nil)), etag: `"v5"`, at: now,
			want: &outcome{OriginRemembered, "4", 1}, wantErr: ErrBadSignature},
		{name: "server down, remembered copy", down: true, at: now, want: &outcome{OriginRemembered, "4", 1}},
		{name: "server down, remembered copy expired", down: true, at: now.Add(8 * 24 * time.Hour), wantErr: ErrExpired},
	}
	for _, st := range steps {
		if st.serve != nil {
			srv.set(st.serve, st.etag)
		}
		if st.down {
			ts.Close()
		}
		acc, warns, err := resolve(st.at)
		if st.wantErr == nil && err != nil || !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: Resolve error = %v, want %v", st.name, err, st.wantErr)
		}
		var got *outcome
		if acc != nil {
			got = &outcome{acc.Origin, acc.Version, len(warns)}
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Fatalf("%s: (-want +got):\n%s\nwarnings: %q", st.name, diff, warns)
		}
	}
	if srv.conditional != 1 {
		t.Errorf("the server saw %d conditional hits, want 1", srv.conditional)
	}
}

func TestResolveFile(t *testing.T) {
	p := needPKI(t)
	now := time.Now()
	l := testList(p.one, now, 2)
	f := filepath.Join(t.TempDir(), "test.list")
	if err := os.WriteFile(f, opensslSign(t, p, p.one, marshal(t, l), modeCMSOpaque), 0o644); err != nil {
		t.Fatal(err)
	}
	trust := &spec.Trust{Name: "local", List: "file://" + f, CADir: p.caDir, EndorserDN: endorserDN, EndorserCA: rootDN}
	lists := t.TempDir()
	acc, warns, err := Resolve(context.Background(), trust, lists, now, nil)
	if err != nil || len(warns) > 0 {
		t.Fatalf("Resolve = %v, %q", err, warns)
	}
	want := &Accepted{
		Trust: "local", URL: "file://" + f, ListID: testListID, Title: l.Title, Version: "3",
		Created: l.Created, Expires: l.Expires, Endorser: endorserDN, Issuer: rootDN, Origin: OriginFetched,
		Images: map[string]Image{},
	}
	for _, im := range l.Images {
		want.Images[im.ID] = Image{ID: im.ID, Title: im.Title, URI: im.URI, Version: im.Version, Size: im.Size,
			SHA512: digest.MustParse("sha512:" + im.SHA512), SHA256: digest.MustParse("sha256:" + im.SHA256),
			Fields: im.Fields(testListID)}
	}
	eq := cmp.Comparer(func(a, b digest.Digest) bool { return a == b })
	if diff := cmp.Diff(want, acc, eq); diff != "" {
		t.Errorf("accepted (-want +got):\n%s", diff)
	}
	rem, err := LoadRemembered(lists, "local")
	if err != nil || rem == nil || rem.Version != "3" {
		t.Fatalf("remembered = %+v, %v", rem, err)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	acc, warns, err = Resolve(context.Background(), trust, lists, now, nil)
	if err != nil || len(warns) != 1 || acc.Origin != OriginRemembered {
		t.Fatalf("Resolve without the file = %+v, %q, %v; want the remembered copy and a warning", acc, warns, err)
	}
}

func TestResolveNothingAccepted(t *testing.T) {
	trust := &spec.Trust{Name: "none", List: "file:///nonexistent/list"}
	acc, _, err := Resolve(context.Background(), trust, t.TempDir(), time.Now(), nil)
	if acc != nil || !errors.Is(err, ErrFetch) {
		t.Fatalf("Resolve = %v, %v; want ErrFetch", acc, err)
	}
}

func TestRemembered(t *testing.T) {
	dir := t.TempDir()
	r := &Remembered{Trust: "cern", URL: "https://x", ListID: "id", Version: "2", ContentSHA256: "ab",
		Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), AcceptedAt: time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC),
		ETag: `"e"`, Raw: []byte("signed\x00bytes")}
	if err := r.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRemembered(dir, "cern")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("(-saved +loaded):\n%s", diff)
	}
	if got, err := LoadRemembered(dir, "other"); got != nil || err != nil {
		t.Errorf("LoadRemembered(missing) = %v, %v", got, err)
	}
	os.WriteFile(RememberedPath(dir, "bad"), []byte("{"), 0o644)
	if _, err := LoadRemembered(dir, "bad"); err == nil {
		t.Error("LoadRemembered(damaged) succeeded")
	}
	for _, name := range []string{"", "..", "a/b"} {
		if err := (&Remembered{Trust: name}).Save(dir); err == nil {
			t.Errorf("Save(trust %q) succeeded", name)
		}
	}
}
