package peer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
)

type testPeer struct {
	content *memContent
	srv     *Server
	http    *httptest.Server
}

func newTestPeer(t testing.TB, opts ...Option) *testPeer {
	t.Helper()
	p := &testPeer{content: newMemContent()}
	p.srv = NewServer(p.content, opts...)
	p.http = httptest.NewServer(p.srv)
	t.Cleanup(p.http.Close)
	return p
}

func (p *testPeer) get(t testing.TB, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestServeBlob(t *testing.T) {
	const size = 3<<20 + 5
	data, d := randomBlob(size, 1)
	partial, pd := randomBlob(1000, 2)
	_, absent := randomBlob(10, 3)
	_, notAllowed := randomBlob(10, 4)
	p := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: size, pd: 1000, absent: 10}))
	p.content.add(d, data, size)
	p.content.add(pd, partial, 400)
	p.content.add(notAllowed, partial[:10], 10)
	_, broken := randomBlob(10, 5)
	p.srv.SetAllowed(map[digest.Digest]int64{d: size, pd: 1000, absent: 10, broken: 10})
	p.content.add(broken, partial[:10], 10)
	p.content.change(broken, func(b *memBlob) { b.openErr = errors.New("blob is 9 bytes, want 10") })

	type result struct {
		Code                       int
		ContentRange, Have, Length string
		Body                       []byte
	}
	tests := []struct {
		name, path, rng string
		want            result
	}{
		{"whole", BlobPrefix + d.Path(), "", result{Code: 200, Length: strconv.Itoa(size), Body: data}},
		{"from offset", BlobPrefix + d.Path(), "bytes=1000-", result{Code: 206, ContentRange: "bytes 1000-3145732/3145733", Length: "3144733", Body: data[1000:]}},
		{"closed range", BlobPrefix + d.Path(), "bytes=10-19", result{Code: 206, ContentRange: "bytes 10-19/3145733", Length: "10", Body: data[10:20]}},
		{"suffix", BlobPrefix + d.Path(), "bytes=-5", result{Code: 206, ContentRange: "bytes 3145728-3145732/3145733", Length: "5", Body: data[size-5:]}},
		{"past the end", BlobPrefix + d.Path(), "bytes=3145733-", result{Code: 416, ContentRange: "bytes */3145733"}},
		{"not allowed", BlobPrefix + notAllowed.Path(), "", result{Code: 404}},
		{"bad hex", BlobPrefix + "sha256/xyz", "", result{Code: 404}},
		{"path tricks", BlobPrefix + "sha256/..%2f..%2fetc%2fpasswd", "", result{Code: 404}},
		{"absent", BlobPrefix + absent.Path(), "", result{Code: 503, Have: "0"}},
		{"partial, complete-only", BlobPrefix + pd.Path() + "?complete=1", "", result{Code: 503, Have: "400"}},
		{"cannot serve", BlobPrefix + broken.Path(), "", result{Code: 500}},
		{"partial prefix", BlobPrefix + pd.Path(), "bytes=0-399", result{Code: 206, ContentRange: "bytes 0-399/1000", Length: "400", Body: partial[:400]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := p.get(t, tt.path, "Range", tt.rng)
			got := result{Code: resp.StatusCode, ContentRange: resp.Header.Get("Content-Range"), Have: resp.Header.Get(HeaderHave)}
			if got.Code < 300 {
				got.Length = resp.Header.Get("Content-Length")
				var err error
				if got.Body, err = io.ReadAll(resp.Body); err != nil {
					t.Fatal(err)
				}
			}
			// cmp.Diff on megabytes is slow: compare bodies apart.
			if !bytes.Equal(got.Body, tt.want.Body) {
				t.Errorf("body: got %d bytes, want %d", len(got.Body), len(tt.want.Body))
			}
			got.Body, tt.want.Body = nil, nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeCutThrough(t *testing.T) {
	const size = 2 << 20
	data, d := randomBlob(size, 5)
	tests := []struct {
		name     string
		finish   func(c *memContent)
		wantBody int
		wantErr  error
	}{
		{"fetch completes", func(c *memContent) { c.land(d, size/2+1); c.land(d, size) }, size, nil},
		{"fetch fails", func(c *memContent) { c.land(d, size/2+100); c.fail(d) }, size/2 + 100, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: size}))
			p.content.add(d, data, size/2)
			resp := p.get(t, BlobPrefix+d.Path())
			if resp.StatusCode != 200 {
				t.Fatalf("status %s", resp.Status)
			}
			got := make([]byte, size/2)
			if _, err := io.ReadFull(resp.Body, got); err != nil {
				t.Fatal(err)
			}
			go tt.finish(p.content)
			rest, err := io.ReadAll(resp.Body)
			got = append(got, rest...)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("body error = %v, want %v", err, tt.wantErr)
			}
			if len(got) != tt.wantBody || string(got) != string(data[:len(got)]) {
				t.Errorf("got %d bytes, want %d of the blob", len(got), tt.wantBody)
			}
		})
	}
}

func TestServeMaxChildren(t *testing.T) {
	data, d := randomBlob(1<<20, 6)
	p := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: 1 << 20}), WithMaxChildren(1))
	p.content.add(d, data, 1000)
	first := p.get(t, BlobPrefix+d.Path())
	if _, err := io.ReadFull(first.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	second := p.get(t, BlobPrefix+d.Path())
	got := [3]string{second.Status, second.Header.Get("Retry-After"), second.Header.Get(HeaderHave)}
	if diff := cmp.Diff([3]string{"503 Service Unavailable", "1", ""}, got); diff != "" {
		t.Errorf("second child (-want +got):\n%s", diff)
	}
	if st := p.srv.Status(); st.Children != 1 {
		t.Errorf("Status().Children = %d, want 1", st.Children)
	}
	p.content.land(d, 1<<20)
	if _, err := io.ReadAll(first.Body); err != nil {
		t.Fatal(err)
	}
}

func TestStatusAndMetrics(t *testing.T) {
	data, d := randomBlob(5000, 7)
	partial, pd := randomBlob(3000, 8)
	p := newTestPeer(t, WithAllowed(map[digest.Digest]int64{d: 5000, pd: 3000}), WithUploadLimit(1<<20))
	p.content.add(d, data, 5000)
	p.content.add(pd, partial, 1200)
	if _, err := io.ReadAll(p.get(t, BlobPrefix+d.Path()).Body); err != nil {
		t.Fatal(err)
	}

	var st Status
	if err := json.NewDecoder(p.get(t, StatusPath).Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	want := Status{BytesServed: 5000, Images: []ImageStatus{
		{Digest: d, Size: 5000, Have: 5000, Complete: true},
		{Digest: pd, Size: 3000, Have: 1200},
	}}
	if d.String() > pd.String() {
		want.Images[0], want.Images[1] = want.Images[1], want.Images[0]
	}
	if diff := cmp.Diff(want, st, cmp.AllowUnexported(digest.Digest{})); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	text, err := io.ReadAll(p.get(t, MetricsPath).Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"prestaged_peer_bytes_served_total 5000",
		`prestaged_peer_requests_total{code="200"} 1`,
		"prestaged_peer_children 0",
		"prestaged_peer_aborted_streams_total 0",
	} {
		if !strings.Contains(string(text), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, text)
		}
	}
}

func TestSetAllowed(t *testing.T) {
	data, d := randomBlob(100, 9)
	p := newTestPeer(t)
	p.content.add(d, data, 100)
	var codes []int
	codes = append(codes, p.get(t, BlobPrefix+d.Path()).StatusCode)
	p.srv.SetAllowed(map[digest.Digest]int64{d: 100})
	codes = append(codes, p.get(t, BlobPrefix+d.Path()).StatusCode)
	p.srv.SetAllowed(nil)
	codes = append(codes, p.get(t, BlobPrefix+d.Path()).StatusCode)
	if diff := cmp.Diff([]int{404, 200, 404}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}
