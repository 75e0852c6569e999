package peer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/internal/testutil"
)

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: still not %s", what)
		}
	}
}

// fileContent serves one complete blob from a file, with WriteNTo, so the
// server takes its sendfile path as it does with the store.
type fileContent struct {
	path string
	size int64
}

type fileReader struct{ *os.File }

func (r fileReader) WriteNTo(w io.Writer, n int64) (int64, error) {
	return io.Copy(w, &io.LimitedReader{R: r.File, N: n})
}

func (c fileContent) Open(_ context.Context, _ digest.Digest, _, off int64, _ bool) (io.ReadCloser, error) {
	f, err := os.Open(c.path)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return fileReader{f}, nil
}

func (c fileContent) Have(digest.Digest) (int64, bool, error) { return c.size, true, nil }

// Two children that stop reading hold both slots of max_children = 2 only
// until the stall timeout: then their connections are closed and a child
// that reads gets the whole blob. Both data paths: buffered writes (here,
// content without WriteNTo) and sendfile.
func TestServeStalledChildrenLoseSlots(t *testing.T) {
	const size = 32 << 20 // far more than the socket buffers hold
	data, d := randomBlob(size, 30)
	mem := newMemContent()
	mem.add(d, data, size)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o444); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		content Content
	}{
		{"buffered", mem},
		{"sendfile", fileContent{path: path, size: size}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const stall = 2 * time.Second
			srv := NewServer(tc.content, WithAllowed(map[digest.Digest]int64{d: size}), WithMaxChildren(2), WithStallTimeout(stall))
			hs := newHTTPServer(t, srv)
			blob := BlobPrefix + d.Path()
			stuck := []net.Conn{testutil.StuckClient(t, strings.TrimPrefix(hs, "http://"), blob), testutil.StuckClient(t, strings.TrimPrefix(hs, "http://"), blob)}
			waitFor(t, "two children admitted", func() bool { return srv.Status().Children == 2 })
			resp, err := http.Get(hs + blob)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("third child while two are stuck: %s, want 503", resp.Status)
			}

			// A real child retries until a slot frees, then reads it all.
			got := testutil.GetWhenFree(t, hs+blob, stall+10*time.Second)
			if !bytes.Equal(got, data) {
				t.Fatalf("real child got %d bytes, not the blob", len(got))
			}
			// The stuck children's connections were closed before their
			// body ended: reading what the buffers hold ends early.
			for i, c := range stuck {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, _ := io.Copy(io.Discard, c)
				if n >= size {
					t.Errorf("stuck child %d: read %d bytes, the whole body", i, n)
				}
			}
			if n := srv.Status().Children; n != 0 {
				t.Errorf("Status().Children = %d after every download ended, want 0", n)
			}
		})
	}
}

func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs.URL
}

// HEAD answers from what the content reports: no child slot (it answers
// while a stuck child holds the only one), no read of the blob, nothing
// counted as served.
func TestServeHead(t *testing.T) {
	const size = 4 << 20
	data, d := randomBlob(size, 31)
	partial, pd := randomBlob(3000, 32)
	_, absent := randomBlob(10, 33)
	p := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: size, pd: 3000, absent: 10}), WithMaxChildren(1))
	p.content.add(d, data, size)
	p.content.add(pd, partial, 1200)
	// The only slot: a child reading pd, which waits for bytes to land.
	testutil.StuckClient(t, strings.TrimPrefix(p.http.URL, "http://"), BlobPrefix+pd.Path())
	waitFor(t, "the stuck child admitted", func() bool { return p.srv.Status().Children == 1 })
	waitFor(t, "the landed bytes sent", func() bool { return p.srv.Status().BytesServed == 1200 })
	opens := p.content.opened()

	type result struct {
		Code                                   int
		Length, ContentRange, Have, AcceptsRng string
	}
	tests := []struct {
		name, path, rng string
		want            result
	}{
		{"complete", BlobPrefix + d.Path(), "", result{Code: 200, Length: strconv.Itoa(size), Have: strconv.Itoa(size), AcceptsRng: "bytes"}},
		{"range", BlobPrefix + d.Path(), "bytes=100-", result{Code: 206, Length: strconv.Itoa(size - 100), ContentRange: fmt.Sprintf("bytes 100-%d/%d", size-1, size), Have: strconv.Itoa(size), AcceptsRng: "bytes"}},
		{"partial", BlobPrefix + pd.Path(), "", result{Code: 200, Length: "3000", Have: "1200", AcceptsRng: "bytes"}},
		{"partial, complete-only", BlobPrefix + pd.Path() + "?complete=1", "", result{Code: 503, Have: "1200"}},
		{"absent", BlobPrefix + absent.Path(), "", result{Code: 503, Have: "0"}},
		{"past the end", BlobPrefix + d.Path(), "bytes=" + strconv.Itoa(size) + "-", result{Code: 416, ContentRange: fmt.Sprintf("bytes */%d", size)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodHead, p.http.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := result{Code: resp.StatusCode, ContentRange: resp.Header.Get("Content-Range"),
				Have: resp.Header.Get(HeaderHave), AcceptsRng: resp.Header.Get("Accept-Ranges")}
			if got.Code < 300 {
				got.Length = resp.Header.Get("Content-Length")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	st := p.srv.Status()
	if got := [3]int64{st.Children, st.BytesServed, p.content.opened() - opens}; got != [3]int64{1, 1200, 0} {
		t.Errorf("after the HEADs: children, bytes served, blob opens = %v, want [1 1200 0]", got)
	}
	text, err := io.ReadAll(p.get(t, MetricsPath).Body)
	if err != nil {
		t.Fatal(err)
	}
	if line := "prestaged_peer_bytes_served_total 1200\n"; !strings.Contains(string(text), line) {
		t.Errorf("metrics lack %q:\n%s", line, text)
	}
}
