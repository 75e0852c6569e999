package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

// testContent is what the httptest servers below serve.
var testContent = fetcherstest.Content(1<<20+321, 20)

func serve(w http.ResponseWriter, status int, headers map[string]string, body []byte) {
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func contentLength(n int) map[string]string {
	return map[string]string{"Content-Length": strconv.Itoa(n)}
}

// TestHTTPMisbehavingServers checks how each kind of lie or refusal is
// classed, and that nothing past the size is ever written.
func TestHTTPMisbehavingServers(t *testing.T) {
	c, size := testContent, len(testContent)
	long := append(bytes.Clone(c), make([]byte, 100)...)
	tests := []struct {
		name     string
		staged   int
		handler  http.HandlerFunc
		wantErr  error // nil: success
		wantPerm bool
		want     fetcherstest.Result
	}{
		{"declares more than the size", 0, func(w http.ResponseWriter, r *http.Request) {
			serve(w, 200, contentLength(size+100), long)
		}, fetchers.ErrTooLong, true, fetcherstest.Result{Intact: true}},
		{"declares less than the size", 0, func(w http.ResponseWriter, r *http.Request) {
			serve(w, 200, contentLength(size-100), c[:size-100])
		}, fetchers.ErrTooShort, false, fetcherstest.Result{Intact: true}},
		{"ends before its Content-Length", 0, func(w http.ResponseWriter, r *http.Request) {
			serve(w, 200, contentLength(size), c[:size/2])
		}, fetchers.ErrTooShort, false, fetcherstest.Result{Offset: int64(size / 2), Written: int64(size / 2), Intact: true}},
		{"unannounced body longer than the size", 0, func(w http.ResponseWriter, r *http.Request) {
			serve(w, 200, nil, long)
		}, fetchers.ErrTooLong, true, fetcherstest.Result{Offset: int64(size), Written: int64(size), Intact: true}},
		{"ignores Range on resume", 1000, func(w http.ResponseWriter, r *http.Request) {
			serve(w, 200, contentLength(size), c)
		}, nil, false, fetcherstest.Result{Offset: int64(size), Written: int64(size - 1000), Intact: true}},
		{"206 from the wrong offset", 1000, func(w http.ResponseWriter, r *http.Request) {
			serve(w, 206, map[string]string{"Content-Range": fmt.Sprintf("bytes 0-%d/%d", size-1, size)}, c)
		}, errAny, true, fetcherstest.Result{Offset: 1000, Intact: true}},
		{"206 with a larger total", 1000, func(w http.ResponseWriter, r *http.Request) {
			serve(w, 206, map[string]string{"Content-Range": fmt.Sprintf("bytes 1000-%d/%d", size-1, size+1)}, c[1000:])
		}, fetchers.ErrTooLong, true, fetcherstest.Result{Offset: 1000, Intact: true}},
		{"206 with a Content-Length past the size", 1000, func(w http.ResponseWriter, r *http.Request) {
			h := contentLength(size - 1000 + 5)
			h["Content-Range"] = fmt.Sprintf("bytes 1000-%d/%d", size-1, size)
			serve(w, 206, h, append(bytes.Clone(c[1000:]), 1, 2, 3, 4, 5))
		}, fetchers.ErrTooLong, true, fetcherstest.Result{Offset: 1000, Intact: true}},
		{"416 on resume", 1000, func(w http.ResponseWriter, r *http.Request) {
			serve(w, 416, nil, nil)
		}, fetchers.ErrTooShort, true, fetcherstest.Result{Offset: 1000, Intact: true}},
		{"410", 0, func(w http.ResponseWriter, r *http.Request) { serve(w, 410, nil, nil) },
			fetchers.ErrNotFound, true, fetcherstest.Result{Intact: true}},
		{"403", 0, func(w http.ResponseWriter, r *http.Request) { serve(w, 403, nil, nil) },
			errAny, true, fetcherstest.Result{Intact: true}},
		{"503", 0, func(w http.ResponseWriter, r *http.Request) { serve(w, 503, nil, nil) },
			errAny, false, fetcherstest.Result{Intact: true}},
		{"429", 0, func(w http.ResponseWriter, r *http.Request) { serve(w, 429, nil, nil) },
			errAny, false, fetcherstest.Result{Intact: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			buf := fetcherstest.NewBuffer(c[:tc.staged])
			err := newMirror(t, srv.URL).Fetch(t.Context(), fetchers.Request{Image: "t", Size: int64(size), Path: "t.img"}, buf)
			checkErr(t, err, tc.wantErr, tc.wantPerm)
			if diff := cmp.Diff(tc.want, fetcherstest.Observe(buf, c)); diff != "" {
				t.Errorf("dst (-want +got):\n%s", diff)
			}
			if buf.Len() > int64(size) {
				t.Errorf("wrote past the size: %d > %d", buf.Len(), size)
			}
		})
	}
}

// errAny stands for "some error" where no sentinel applies.
var errAny = errors.New("any error")

func checkErr(t *testing.T, err, want error, wantPerm bool) {
	t.Helper()
	t.Logf("Fetch: %v", err)
	switch {
	case want == nil && err != nil:
		t.Fatalf("Fetch: %v", err)
	case want != nil && err == nil:
		t.Fatalf("Fetch succeeded, want %v", want)
	case want != nil && want != errAny && !errors.Is(err, want):
		t.Errorf("Fetch: err %v, want %v", err, want)
	}
	if got := fetchers.IsPermanent(err); got != wantPerm {
		t.Errorf("IsPermanent(%v) = %v, want %v", err, got, wantPerm)
	}
}

// rangeLog records the Range header of every request a handler sees.
type rangeLog struct {
	mu     sync.Mutex
	ranges []string
}

func (l *rangeLog) add(r *http.Request) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ranges = append(l.ranges, r.Header.Get("Range"))
	return len(l.ranges)
}

func (l *rangeLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ranges...)
}

type retry struct {
	Attempt int
	Stalled bool
}

// TestHTTPRetryAndStall composes the mirror with the wrappers as the engine
// does: each server fails its first request; the second must resume.
func TestHTTPRetryAndStall(t *testing.T) {
	c, size := testContent, len(testContent)
	half := size / 2
	tests := []struct {
		name       string
		first      http.HandlerFunc
		wantRanges []string
		wantRetry  []retry
		wantResult fetcherstest.Result
	}{
		{"503 then success", func(w http.ResponseWriter, r *http.Request) { serve(w, 503, nil, nil) },
			[]string{"", ""}, []retry{{1, false}},
			fetcherstest.Result{Offset: int64(size), Written: int64(size), Intact: true}},
		{"stall mid-body then resume", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(size))
			_, _ = w.Write(c[:half])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, []string{"", fmt.Sprintf("bytes=%d-", half)}, []retry{{1, true}},
			fetcherstest.Result{Offset: int64(size), Written: int64(size), Intact: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log rangeLog
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if log.add(r) == 1 {
					tc.first(w, r)
					return
				}
				http.ServeContent(w, r, "t.img", time.Time{}, bytes.NewReader(c))
			}))
			defer srv.Close()
			var retries []retry
			f := fetchers.WithRetry(fetchers.WithStallTimeout(newMirror(t, srv.URL), 100*time.Millisecond),
				fetchers.RetryPolicy{InitialInterval: time.Millisecond, OnRetry: func(a int, err error, _ time.Duration) {
					retries = append(retries, retry{a, errors.Is(err, fetchers.ErrStalled)})
				}})
			buf := fetcherstest.NewBuffer(nil)
			if err := f.Fetch(t.Context(), fetchers.Request{Image: "t", Size: int64(size), Path: "t.img"}, buf); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			got := []any{log.get(), retries, fetcherstest.Observe(buf, c)}
			if diff := cmp.Diff([]any{tc.wantRanges, tc.wantRetry, tc.wantResult}, got); diff != "" {
				t.Errorf("ranges asked, retries, result (-want +got):\n%s", diff)
			}
		})
	}
}
