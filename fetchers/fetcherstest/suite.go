package fetcherstest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/fetchers"
)

// SuitePath is the path under which Suite asks newFetcher to serve content.
// It has a directory and a space so that mirrors prove they escape paths.
const SuitePath = "vm/slc6 batch-20101130.img"

// returnGuard bounds how long Suite waits for a cancelled fetch. It is a
// hang detector, not a speed requirement.
const returnGuard = 10 * time.Second

// Content returns n deterministic pseudo-random bytes for seed.
func Content(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	_, _ = r.Read(b)
	return b
}

// Result is what a fetch left behind, compared whole by Suite.
type Result struct {
	Offset  int64 // dst.Offset() after the fetch
	Written int64 // bytes written by the fetch
	Intact  bool  // the bytes in dst are a prefix of the content
}

// Observe summarises buf after a fetch of content.
func Observe(buf *Buffer, content []byte) Result {
	return Result{Offset: buf.Offset(), Written: buf.Written(), Intact: bytes.HasPrefix(content, buf.Bytes())}
}

// Suite runs the cases every Fetcher must pass. newFetcher returns a fetcher
// whose source holds content under path (fetchers addressed by digest use
// Digest(content) instead, which Suite puts in every Request).
func Suite(t *testing.T, newFetcher func(t *testing.T, content []byte, path string) fetchers.Fetcher) {
	tests := []struct {
		name string
		run  func(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher)
	}{
		{"Whole", testWhole},
		{"Resume", testResume},
		{"AlreadyComplete", testAlreadyComplete},
		{"SourceLongerThanSize", testTooLong},
		{"SourceShorterThanSize", testTooShort},
		{"NotFound", testNotFound},
		{"CancelledBefore", testCancelledBefore},
		{"CancelledDuring", testCancelledDuring},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newFetcher) })
	}
}

// Digest is the sha256 digest of content, which Suite puts in every
// Request: fetchers addressed by digest serve content under it.
func Digest(content []byte) digest.Digest {
	d, _, err := digest.Of(digest.SHA256, bytes.NewReader(content))
	if err != nil {
		panic(err) // a bytes.Reader does not fail
	}
	return d
}

// request asks for content under SuitePath.
func request(content []byte) fetchers.Request {
	return fetchers.Request{Image: "suite", Digest: Digest(content), Size: int64(len(content)), Path: SuitePath}
}

// fetch runs f and checks the one rule every case shares: nothing past Size.
func fetch(t *testing.T, ctx context.Context, f fetchers.Fetcher, req fetchers.Request, buf *Buffer) error {
	t.Helper()
	err := f.Fetch(ctx, req, buf)
	if buf.Len() > req.Size {
		t.Errorf("dst holds %d bytes, past the request's size %d", buf.Len(), req.Size)
	}
	return err
}

func testWhole(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher) {
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"odd size", 3<<20 + 123},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			content := Content(tc.size, 1)
			buf := NewBuffer(nil)
			if err := fetch(t, t.Context(), newFetcher(t, content, SuitePath), request(content), buf); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want := Result{Offset: int64(tc.size), Written: int64(tc.size), Intact: true}
			if diff := cmp.Diff(want, Observe(buf, content)); diff != "" {
				t.Errorf("after Fetch (-want +got):\n%s", diff)
			}
		})
	}
}

func testResume(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher) {
	content := Content(2<<20+77, 2)
	for _, staged := range []int{1, 1<<20 + 5, len(content) - 1} {
		buf := NewBuffer(content[:staged])
		if err := fetch(t, t.Context(), newFetcher(t, content, SuitePath), request(content), buf); err != nil {
			t.Fatalf("Fetch from %d: %v", staged, err)
		}
		want := Result{Offset: int64(len(content)), Written: int64(len(content) - staged), Intact: true}
		if diff := cmp.Diff(want, Observe(buf, content)); diff != "" {
			t.Errorf("resume from %d: staged bytes fetched again? (-want +got):\n%s", staged, diff)
		}
	}
}

func testAlreadyComplete(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher) {
	content := Content(4096, 3)
	buf := NewBuffer(content)
	if err := fetch(t, t.Context(), newFetcher(t, content, SuitePath), request(content), buf); err != nil {
		t.Fatalf("Fetch with every byte staged: %v", err)
	}
	want := Result{Offset: int64(len(content)), Written: 0, Intact: true}
	if diff := cmp.Diff(want, Observe(buf, content)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// errClass is how Suite compares errors whole.
type errClass struct {
	Is        []bool // errors.Is for each sentinel asked
	Permanent bool
}

func classify(err error, sentinels ...error) errClass {
	c := errClass{Permanent: fetchers.IsPermanent(err)}
	for _, s := range sentinels {
		c.Is = append(c.Is, errors.Is(err, s))
	}
	return c
}

func testTooLong(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher) {
	content := Content(1<<20+10, 4)
	req := request(content)
	req.Size -= 1000
	buf := NewBuffer(nil)
	err := fetch(t, t.Context(), newFetcher(t, content, SuitePath), req, buf)
	want := errClass{Is: []bool{true}, Permanent: true}
	if diff := cmp.Diff(want, classify(err, fetchers.ErrTooLong)); diff != "" {
		t.Errorf("source longer than Size: err %v; want ErrTooLong, permanent (-want +got):\n%s", err, diff)
	}
}

func testTooShort(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher) {
	content := Content(1<<20+10, 5)
	req := request(content)
	req.Size += 1000
	buf := NewBuffer(nil)
	err := fetch(t, t.Context(), newFetcher(t, content, SuitePath), req, buf)
	want := errClass{Is: []bool{true}, Permanent: false}
	if diff := cmp.Diff(want, classify(err, fetchers.ErrTooShort)); diff != "" {
		t.Errorf("source shorter than Size: err %v; want ErrTooShort, retryable (-want +got):\n%s", err, diff)
	}
	if !bytes.HasPrefix(content, buf.Bytes()) {
		t.Errorf("dst is not a prefix of the content")
	}
}

func testNotFound(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher) {
	content := Content(1000, 6)
	other := request(Content(1000, 7))
	other.Path = "vm/no-such-image.img"
	buf := NewBuffer(nil)
	err := fetch(t, t.Context(), newFetcher(t, content, SuitePath), other, buf)
	want := errClass{Is: []bool{true}, Permanent: true}
	if diff := cmp.Diff(want, classify(err, fetchers.ErrNotFound)); diff != "" {
		t.Errorf("missing image: err %v; want ErrNotFound, permanent (-want +got):\n%s", err, diff)
	}
	if buf.Written() != 0 {
		t.Errorf("missing image: %d bytes written, want 0", buf.Written())
	}
}

func testCancelledBefore(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher) {
	content := Content(1<<20, 8)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	buf := NewBuffer(nil)
	err := fetch(t, ctx, newFetcher(t, content, SuitePath), request(content), buf)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch with a cancelled ctx: err %v, want context.Canceled", err)
	}
	if buf.Written() != 0 {
		t.Errorf("Fetch with a cancelled ctx wrote %d bytes", buf.Written())
	}
}

func testCancelledDuring(t *testing.T, newFetcher func(*testing.T, []byte, string) fetchers.Fetcher) {
	content := Content(16<<20, 9)
	f := newFetcher(t, content, SuitePath)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	buf := NewBuffer(nil)
	buf.OnWrite = func(int64) { cancel() }
	done := make(chan error, 1)
	go func() { done <- f.Fetch(ctx, request(content), buf) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch cancelled after its first write: err %v, want context.Canceled", err)
		}
	case <-time.After(returnGuard):
		t.Fatalf("Fetch still running %s after its ctx was cancelled", returnGuard)
	}
	if buf.Offset() >= int64(len(content)) {
		t.Errorf("Fetch cancelled after its first write went on to write all %d bytes", buf.Offset())
	}
}
