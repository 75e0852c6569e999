package peer

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/fetcherstest"
)

// The parent fetcher, under the stall watch as wired, passes the suite every
// Fetcher passes, against a real Server over HTTP holding the content
// complete.
func TestParentSuite(t *testing.T) {
	fetcherstest.Suite(t, func(t *testing.T, content []byte, _ string) fetchers.Fetcher {
		d := fetcherstest.Digest(content)
		c := newMemContent()
		c.add(d, content, len(content))
		srv := NewServer(c, WithAllowed(map[digest.Digest]int64{d: int64(len(content))}))
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		return fetchers.WithStallTimeout(NewParent(strings.TrimPrefix(hs.URL, "http://"),
			Options{PollInterval: 10 * time.Millisecond}), 5*time.Second)
	})
}
