package peer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prestaged/prestaged/fetchers/fetcherstest"

	"github.com/prestaged/prestaged/fetchers"
)

// A store-and-forward parent holds nothing until its own copy is complete.
// While it says it is fetching, a complete-only child must wait on it past
// the stall timeout; without that, the child gives up.
func TestCompleteOnlyWaitsOnFetchingParent(t *testing.T) {
	const size = 256 << 10
	data, d := randomBlob(size, 7)
	for _, tt := range []struct {
		name     string
		fetching bool
		wantErr  error
	}{
		{"parent fetching", true, nil},
		{"parent idle", false, fetchers.ErrStalled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var polls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if polls.Add(1) <= 30 { // 30 polls × 10 ms: well past the stall timeout
					w.Header().Set(HeaderHave, "0")
					if tt.fetching {
						w.Header().Set(HeaderFetching, "1")
					}
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.Header().Set("Content-Length", strconv.Itoa(size))
				w.Write(data)
			}))
			defer srv.Close()
			p := fetchers.WithStallTimeout(NewParent(srv.URL, Options{PollInterval: 10 * time.Millisecond, CompleteOnly: true}),
				100*time.Millisecond)
			dst := fetcherstest.NewBuffer(nil)
			err := p.Fetch(context.Background(), fetchers.Request{Image: "t", Digest: d, Size: size}, dst)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Fetch = %v, want %v", err, tt.wantErr)
			}
			if err == nil && string(dst.Bytes()) != string(data) {
				t.Fatal("staged bytes differ")
			}
		})
	}
}
