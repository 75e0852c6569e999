package main_test

import (
	"strings"
	"testing"
)

// editedSite is publishedSite with no sources line and its spec then
// rewritten by edit, for tests that need blocks the plain spec lacks.
func editedSite(t *testing.T, name string, n int, seed uint64, edit func(string) string) (*site, img, string) {
	t.Helper()
	s, image, spec := publishedSite(t, name, n, seed, false)
	editSpec(t, spec, edit)
	return s, image, spec
}

// serveAddr starts serve on spec and returns the host:port it serves on,
// the form peer parents and raw connections take.
func serveAddr(t *testing.T, spec string) string {
	t.Helper()
	return strings.TrimPrefix(startServe(t, spec), "http://")
}

// servingSite is publishedSite, with no sources line, whose serve runs: it
// returns serve's host:port as well, for a child to name as its parent.
func servingSite(t *testing.T, name string, n int, seed uint64) (s *site, image img, spec, addr string) {
	t.Helper()
	s, image, spec = publishedSite(t, name, n, seed, false)
	return s, image, spec, serveAddr(t, spec)
}
