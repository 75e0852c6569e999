package mirror

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
	"github.com/prestaged/prestaged/internal/testutil"
)

var stageCount atomic.Int64

// stage writes content to a fresh directory under root at path, and returns
// that directory's name relative to root, with a trailing slash.
func stage(t *testing.T, root string, content []byte, path string) string {
	t.Helper()
	sub := fmt.Sprintf("d%d/", stageCount.Add(1))
	p := filepath.Join(root, sub, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return sub
}

func newMirror(t *testing.T, baseURL string) *Mirror {
	t.Helper()
	m, err := New("test", baseURL)
	if err != nil {
		t.Fatalf("New(%q): %v", baseURL, err)
	}
	return m
}

func TestSuiteFile(t *testing.T) {
	root := t.TempDir()
	fetcherstest.Suite(t, func(t *testing.T, content []byte, path string) fetchers.Fetcher {
		return newMirror(t, "file://"+filepath.ToSlash(root)+"/"+stage(t, root, content, path))
	})
}

func TestSuiteHTTPTest(t *testing.T) {
	root := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	t.Cleanup(srv.Close)
	fetcherstest.Suite(t, func(t *testing.T, content []byte, path string) fetchers.Fetcher {
		return newMirror(t, srv.URL+"/"+stage(t, root, content, path))
	})
}

func TestSuiteNginx(t *testing.T) {
	root := t.TempDir()
	base := testutil.StartNginx(t, root)
	fetcherstest.Suite(t, func(t *testing.T, content []byte, path string) fetchers.Fetcher {
		return newMirror(t, base+stage(t, root, content, path))
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		in      string
		want    string // String() of the mirror; "" means New fails
		wantURL string // URL for path "a b/c.img"
	}{
		{"https://images.example.org/vm/", "https://images.example.org/vm/", "https://images.example.org/vm/a%20b/c.img"},
		{"http://h:8080/vm", "http://h:8080/vm/", "http://h:8080/vm/a%20b/c.img"},
		{"http://h", "http://h/", "http://h/a%20b/c.img"},
		{"file:///srv/images", "file:///srv/images/", "file:///srv/images/a%20b/c.img"},
		{"file://localhost/srv/", "file://localhost/srv/", "file://localhost/srv/a%20b/c.img"},
		{"ftp://h/vm/", "", ""},
		{"file://otherhost/srv/", "", ""},
		{"file:relative/dir", "", ""},
		{"http:///nohost/", "", ""},
		{"http://h/vm/?q=1", "", ""},
		{"://bad", "", ""},
	}
	for _, tc := range tests {
		m, err := New("t", tc.in)
		if (err != nil) != (tc.want == "") {
			t.Errorf("New(%q): err %v, want error: %v", tc.in, err, tc.want == "")
			continue
		}
		if err != nil {
			continue
		}
		got := []string{m.String(), m.urlFor([]string{"a b", "c.img"})}
		if diff := cmp.Diff([]string{tc.want, tc.wantURL}, got); diff != "" {
			t.Errorf("New(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"slc6.img", []string{"slc6.img"}},
		{"vm/2010/slc6.img", []string{"vm", "2010", "slc6.img"}},
		{"", nil},
		{"/etc/passwd", nil},
		{"../secret.img", nil},
		{"vm/../../secret.img", nil},
		{"vm//slc6.img", nil},
		{"vm/./slc6.img", nil},
		{"vm/", nil},
	}
	for _, tc := range tests {
		got, err := cleanPath(tc.in)
		if (err != nil) != (tc.want == nil) {
			t.Errorf("cleanPath(%q): err %v", tc.in, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("cleanPath(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	type result struct {
		First, Last, Total int64
		OK                 bool
	}
	tests := []struct {
		in   string
		want result
	}{
		{"bytes 0-99/100", result{0, 99, 100, true}},
		{"bytes 50-99/*", result{50, 99, -1, true}},
		{"bytes 50-99", result{}},
		{"bytes 99-50/100", result{}},
		{"bytes 0-99/99", result{}},
		{"items 0-99/100", result{}},
		{"bytes x-99/100", result{}},
		{"", result{}},
	}
	for _, tc := range tests {
		f, l, tot, err := fetchers.ParseContentRange(tc.in)
		if diff := cmp.Diff(tc.want, result{f, l, tot, err == nil}); diff != "" {
			t.Errorf("ParseContentRange(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
