package fetchers_test

import (
	"fmt"
	"testing"

	"github.com/prestaged/prestaged/fetchers"
)

// FuzzParseContentRange: any header parses or is refused, never panics, and
// what parses is a sane range that reads back the same.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 5-9/*", "bytes 0-0/1", "bytes 9-5/10", "bytes -1-3/4",
		"bytes 0-99/99", "bytes 1-2/3 ", "bits 0-1/2", "bytes 9223372036854775806-9223372036854775807/*", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		first, last, total, err := fetchers.ParseContentRange(h)
		if err != nil {
			return
		}
		if first < 0 || last < first || (total != -1 && total <= last) {
			t.Fatalf("%q parsed as %d-%d/%d", h, first, last, total)
		}
		back := fmt.Sprintf("bytes %d-%d/%d", first, last, total)
		if total == -1 {
			back = fmt.Sprintf("bytes %d-%d/*", first, last)
		}
		f2, l2, t2, err := fetchers.ParseContentRange(back)
		if err != nil || f2 != first || l2 != last || t2 != total {
			t.Fatalf("%q parsed as %q, which reads back as %d-%d/%d, %v", h, back, f2, l2, t2, err)
		}
	})
}
