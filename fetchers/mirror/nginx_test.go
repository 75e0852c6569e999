package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
	"github.com/prestaged/prestaged/internal/testutil"
)

// nginxMirror stages an image (5 MiB and 3 bytes from seed) at path for a
// real nginx, and returns nginx, the image, the staging's subdirectory and a
// Mirror of it.
func nginxMirror(t *testing.T, seed uint64, path string) (*testutil.Nginx, []byte, string, *Mirror) {
	t.Helper()
	root := t.TempDir()
	ngx := testutil.RunNginx(t, root)
	content := fetcherstest.Content(5<<20+3, seed)
	sub := stage(t, root, content, path)
	return ngx, content, sub, newMirror(t, ngx.URL+sub)
}

// TestNginx checks against a real nginx what it served for each fetch, as
// its access log tells: a resume asks for and gets only the rest.
func TestNginx(t *testing.T) {
	ngx, content, sub, m := nginxMirror(t, 10, "vm/slc6.img")
	size := int64(len(content))
	mid := size/2 + 1

	tests := []struct {
		name    string
		path    string
		staged  int64
		wantErr error
		wantLog testutil.NginxRequest
	}{
		{"whole", "vm/slc6.img", 0, nil,
			testutil.NginxRequest{Method: "GET", Path: "/" + sub + "vm/slc6.img", Range: "-", Status: 200, BodyBytes: size}},
		{"resume from the middle", "vm/slc6.img", mid, nil,
			testutil.NginxRequest{Method: "GET", Path: "/" + sub + "vm/slc6.img", Range: fmt.Sprintf("bytes=%d-", mid), Status: 206, BodyBytes: size - mid}},
		{"not found", "vm/missing.img", 0, fetchers.ErrNotFound,
			testutil.NginxRequest{Method: "GET", Path: "/" + sub + "vm/missing.img", Range: "-", Status: 404, BodyBytes: -1}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf := fetcherstest.NewBuffer(content[:tc.staged])
			req := fetchers.Request{Image: "slc6", Size: size, Path: tc.path}
			err := m.Fetch(t.Context(), req, buf)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Fetch: err %v, want %v", err, tc.wantErr)
			}
			log := ngx.Requests(t, i+1)
			if len(log) != i+1 {
				t.Fatalf("nginx logged %d requests, want %d: %+v", len(log), i+1, log)
			}
			got := log[i]
			if tc.wantLog.BodyBytes < 0 {
				got.BodyBytes = -1 // the size of nginx's error page is not ours to pin
			}
			if diff := cmp.Diff(tc.wantLog, got); diff != "" {
				t.Errorf("nginx served (-want +got):\n%s", diff)
			}
			if tc.wantErr == nil && !bytes.Equal(buf.Bytes(), content) {
				t.Errorf("dst differs from the content")
			}
		})
	}
}
