package main_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/internal/testutil"
)

// rotBlob overwrites 4 bytes at 4096 of the store's blob of i, as a failing
// disk would: chmod 644, write, chmod 444.
func (s *site) rotBlob(i img) {
	s.t.Helper()
	p := s.path("store", "blobs", "sha256", i.digest())
	if err := os.Chmod(p, 0o644); err != nil {
		s.t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("ROT!"), 4096); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Chmod(p, 0o444); err != nil {
		s.t.Fatal(err)
	}
}

// blobGood reports whether the store holds i's blob with i's content.
func (s *site) blobGood(i img) bool {
	b, err := os.ReadFile(s.path("store", "blobs", "sha256", i.digest()))
	return err == nil && bytes.Equal(b, i.content)
}

// #28 case 1: a blob that rotted in the store is not installed; it is
// removed and the image fetched again, for a removed install path and for
// a replace after a consumer changed its copy.
func TestApplyNeverInstallsRottedBlob(t *testing.T) {
	s, image, spec := publishedSite(t, "vm", 1<<20, 81, false)
	mustApply(t, spec, 2)

	s.rotBlob(image)
	os.Remove(s.path("images", "vm.img"))
	mustApply(t, spec, 2)
	if !bytes.Equal(s.installed("vm"), image.content) || !s.blobGood(image) {
		t.Fatalf("after the install path was removed: installed is the image %t, blob good %t",
			bytes.Equal(s.installed("vm"), image.content), s.blobGood(image))
	}

	s.rotBlob(image)
	if err := os.WriteFile(s.path("images", "vm.img"), []byte("a consumer wrote here"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustApply(t, spec, 2)
	if !bytes.Equal(s.installed("vm"), image.content) || !s.blobGood(image) {
		t.Fatal("after a consumer changed the installed copy: the image was not installed from verified bytes")
	}
	mustApply(t, spec, 0)
}

type verifyJSON struct {
	Checked []struct {
		Image, Blob, Repair string
		InstallOK           bool `json:"install_ok"`
	} `json:"checked"`
	Result struct {
		Changed, Failed int
	} `json:"result"`
}

// #28 case 2: verify says what it found and did, exits non-zero, fetches a
// removed blob again, and serve then answers for the image.
func TestVerifyRepairsRottedBlob(t *testing.T) {
	s, image, spec := publishedSite(t, "vm", 1<<20, 82, false)
	mustApply(t, spec, 2)

	s.rotBlob(image)
	r := run(t, "verify", "--detailed-exitcodes", "--json", spec)
	if r.code != 2 {
		t.Fatalf("verify --detailed-exitcodes after the blob rotted: want exit 2 (repaired), got %s", r)
	}
	var got verifyJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, r.stdout)
	}
	want := verifyJSON{}
	want.Checked = append(want.Checked, struct {
		Image, Blob, Repair string
		InstallOK           bool `json:"install_ok"`
	}{"vm", "corrupt (removed)", "blob fetched again", true})
	want.Result.Changed = 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verify --json (-want +got):\n%s", diff)
	}
	if !s.blobGood(image) {
		t.Fatal("verify did not fetch the removed blob again")
	}
	base := startServe(t, spec)
	resp, err := http.Get(base + "/v1/blobs/sha256/" + image.digest())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("serve after verify repaired the blob: %s, want 200 OK", resp.Status)
	}

	// Without --detailed-exitcodes, damage found exits 1; a clean host 0.
	s.rotBlob(image)
	if r := run(t, "verify", spec); r.code != 1 {
		t.Errorf("plain verify that found and repaired damage: want exit 1, got %s", r)
	}
	if r := run(t, "verify", "--detailed-exitcodes", spec); r.code != 0 {
		t.Errorf("verify of a healthy host: want exit 0, got %s", r)
	}

	// Damage that cannot be repaired (the mirror lost the image) exits 4.
	s.rotBlob(image)
	os.Remove(s.path("mirror", "vm.img"))
	if r := run(t, "verify", "--detailed-exitcodes", spec); r.code != 4 {
		t.Errorf("verify that could not repair: want exit 4, got %s", r)
	}
}

// badMirror announces an image of size bytes, sends n wrong ones and cuts
// the connection; asked for what lies beyond n, it has nothing. nginx
// cannot misbehave so.
func badMirror(t *testing.T, size, n int64) string {
	junk := randomBytes(int(n), 84)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.Header().Set("Accept-Ranges", "bytes")
		w.Write(junk)
		panic(http.ErrAbortHandler) // the connection is cut mid-body
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/"
}

// #28 case 3: a bad mirror sends 2 MiB of wrong bytes then fails; a real
// nginx mirror resumes at 2 MiB. Only the first is blamed,
// the image installs, and the next run is converged. Junk left in the
// staging file by an earlier run is discarded and blames no one.
func TestBadMirrorDoesNotPoisonGood(t *testing.T) {
	testutil.Need(t, "nginx")
	s := newSite(t)
	image := img{name: "vm", content: randomBytes(6<<20, 83)}
	if err := os.MkdirAll(s.path("good"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path("good", "vm.img"), image.content, 0o644); err != nil {
		t.Fatal(err)
	}
	bad, good := badMirror(t, image.length(), 2<<20), testutil.StartNginx(t, s.path("good"))
	var spec string
	writeSpec := func(sources string) {
		spec = s.mirrorsSpec("5s", image, sources, "bad", bad, "good", good)
	}
	writeSpec(`["mirror.bad", "mirror.good"]`)
	r := run(t, "apply", "--detailed-exitcodes", "--json", "--no-progress", spec)
	if r.code != 2 || !bytes.Equal(s.installed("vm"), image.content) {
		t.Fatalf("bad mirror before a good one: want exit 2 and the image installed, got %s", r)
	}
	if got := badSources(t, r); !cmp.Equal(got, []string{"mirror.bad"}) {
		t.Errorf("bad_sources %q, want [mirror.bad]\n%s", got, r.stderr)
	}
	mustApply(t, spec, 0)

	// Junk staged by an earlier run, then only the good mirror.
	os.RemoveAll(s.path("store"))
	os.Remove(s.path("images", "vm.img"))
	staging := s.path("store", "staging", "sha256", image.digest()+".part")
	if err := os.MkdirAll(filepath.Dir(staging), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(staging, randomBytes(1<<20, 85), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSpec(`["mirror.good"]`)
	r = run(t, "apply", "--detailed-exitcodes", "--json", "--no-progress", spec)
	if r.code != 2 || !bytes.Equal(s.installed("vm"), image.content) {
		t.Fatalf("junk staged by an earlier run: want exit 2 and the image installed, got %s", r)
	}
	if got := badSources(t, r); len(got) != 0 {
		t.Errorf("junk of an earlier run blamed %q", got)
	}
}
