package testutil

import (
	"net/http"
	"strconv"
	"time"
)

// TrickleBody answers r with content, one byte every interval, each
// flushed: a source slow enough that a fetch must leave it. It returns
// when the client goes or the content ends.
func TrickleBody(w http.ResponseWriter, r *http.Request, content []byte, every time.Duration) {
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	for _, b := range content {
		if _, err := w.Write([]byte{b}); err != nil {
			return
		}
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(every):
		}
	}
}
