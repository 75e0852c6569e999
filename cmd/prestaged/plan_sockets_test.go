package main_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// plan and status open no socket and start no client: on a spec with peer,
// torrent and trust blocks whose torrent listen address is not this
// machine's (so a swarm could not even bind), plan lists the torrent source
// as usable and exits as for any host that needs the image.
func TestPlanStartsNoSwarm(t *testing.T) {
	_, _, spec := editedSite(t, "vm", 64<<10, 95, func(b string) string {
		b = strings.Replace(b, `path    = "vm.img"`, `path    = "vm.img"
  sources = ["parents", "torrent", "mirror.m"]`, 1)
		return b + `
peer {
  listen  = "127.0.0.1:0"
  parents = ["192.0.2.7:8471"]
}
torrent {
  listen  = "192.0.2.1:6881"
  tracker = "http://192.0.2.2:6969/announce"
}
`
	})
	r := run(t, "plan", "--json", "--detailed-exitcodes", spec)
	if r.code != 2 {
		t.Fatalf("plan: want exit 2 (changes pending), got %s", r)
	}
	var out struct {
		Plan struct {
			Images []struct{ Sources []string } `json:"images"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Plan.Images) != 1 {
		t.Fatalf("plan --json: %v\n%s", err, r)
	}
	want := []string{"parent 192.0.2.7:8471", "torrent", "mirror.m"}
	if got := out.Plan.Images[0].Sources; !slices.Equal(got, want) {
		t.Errorf("plan sources %q, want %q (a source that had to start something to be named is not usable in plan)", got, want)
	}
	if strings.Contains(r.stderr, "torrent:") {
		t.Errorf("plan logged swarm activity:\n%s", r.stderr)
	}
	if r := run(t, "status", spec); r.code != 0 {
		t.Errorf("status: %s", r)
	}
}
