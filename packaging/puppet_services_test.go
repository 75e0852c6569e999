package packaging

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/internal/testutil"
)

// TestPuppetServices applies the module's units through Puppet's systemd
// provider driving a fake systemctl (testdata/puppet/bin), so no real unit
// changes: each serve mode must reach its states from another mode's, and
// a second run must change nothing. Socket mode must never stop the server
// its socket started.
func TestPuppetServices(t *testing.T) {
	fake, err := filepath.Abs("testdata/puppet/bin")
	testutil.Must(t, err)
	fakeModules, err := filepath.Abs("testdata/puppet/modules")
	testutil.Must(t, err)
	const svc, sock, timer = "prestaged.service", "prestaged.socket", "prestaged-apply.timer"
	tests := []struct {
		name   string
		serve  string
		timer  bool
		before []string // <unit>.active and <unit>.enabled files
		want   []string // systemctl calls that change state, in any order
	}{
		{"socket on a fresh host", "socket", true, nil, []string{
			"enable " + timer, "enable " + sock, "start " + timer, "start " + sock,
			"stop " + svc, // the exec: no socket listens yet, so any server holds the port
		}},
		{"socket with the server it activated running", "socket", true,
			[]string{sock + ".active", sock + ".enabled", svc + ".active", timer + ".active", timer + ".enabled"},
			[]string{"reload " + svc}},
		{"service after socket", "service", true,
			[]string{sock + ".active", sock + ".enabled", svc + ".active"},
			[]string{"disable " + sock, "enable " + svc, "enable " + timer, "reload " + svc, "start " + timer, "stop " + sock}},
		{"none, timer off", "none", false,
			[]string{svc + ".active", svc + ".enabled", timer + ".active", timer + ".enabled"},
			[]string{"disable " + svc, "disable " + timer, "stop " + svc, "stop " + timer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newScratchPuppet(t, fakeModules)
			state := filepath.Join(p.dir, "systemd")
			if err := os.Mkdir(state, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.before {
				if err := os.WriteFile(filepath.Join(state, f), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p.env = append(p.env, "FAKE_SYSTEMD="+state)
			p.path = append([]string{fake}, p.path...)
			vars := map[string]any{"Serve": tt.serve, "Timer": tt.timer, "Fake": fake}
			for run, want := range [][]string{slices.Sorted(slices.Values(tt.want)), nil} {
				os.Remove(filepath.Join(state, "calls"))
				wantCode := map[bool]int{true: 2, false: 0}[run == 0]
				if code, out := p.apply(t, testdataManifest(t, "services.pp"), vars); code != wantCode {
					t.Fatalf("run %d: puppet apply exit %d, want %d:\n%s", run+1, code, wantCode, out)
				}
				if diff := cmp.Diff(want, systemctlCalls(t, state)); diff != "" {
					t.Errorf("run %d: systemctl calls (-want +got):\n%s", run+1, diff)
				}
			}
		})
	}
}

// systemctlCalls reads the fake systemctl's log of state changes, sorted.
func systemctlCalls(t *testing.T, state string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "calls"))
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	calls := strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
	for i := range calls {
		calls[i] = strings.ReplaceAll(calls[i], "_", " ")
	}
	slices.Sort(calls)
	return calls
}
