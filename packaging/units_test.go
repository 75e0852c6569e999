package packaging

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

var units = []string{"prestaged.service", "prestaged.socket", "prestaged-apply.service", "prestaged-apply.timer"}

// parseUnit reads a unit file into section -> key -> values (keys may repeat).
func parseUnit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, _ := strings.Cut(line, "=")
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// TestUnitSettings pins the settings the operations contract depends on, so
// an edit that drops one fails here rather than on a farm.
func TestUnitSettings(t *testing.T) {
	tests := []struct {
		unit, section, key, want string
	}{
		{"prestaged.service", "Service", "Type", "notify"},
		{"prestaged.service", "Service", "ExecStart", "/usr/bin/prestaged serve /etc/prestaged/spec.hcl"},
		{"prestaged.service", "Service", "ExecReload", "/bin/kill -HUP $MAINPID"},
		{"prestaged.service", "Service", "Restart", "on-failure"},
		{"prestaged.service", "Service", "WatchdogSec", "60s"},
		{"prestaged.service", "Service", "NoNewPrivileges", "yes"},
		{"prestaged.service", "Service", "ProtectSystem", "strict"},
		{"prestaged.service", "Service", "ReadWritePaths", "/var/lib/prestaged"},
		{"prestaged.service", "Service", "PrivateTmp", "yes"},
		{"prestaged.service", "Service", "ProtectHome", "yes"},
		{"prestaged.service", "Service", "CapabilityBoundingSet", ""},
		{"prestaged.socket", "Socket", "ListenStream", "7946"},
		{"prestaged.socket", "Socket", "Service", "prestaged.service"},
		{"prestaged-apply.service", "Service", "Type", "oneshot"},
		{"prestaged-apply.service", "Service", "ExecStart", "/usr/bin/prestaged apply --detailed-exitcodes --wait 50m --metrics-file ${PRESTAGED_METRICS_FILE} /etc/prestaged/spec.hcl"},
		{"prestaged-apply.service", "Service", "SuccessExitStatus", "2"},
		{"prestaged-apply.service", "Service", "ProtectSystem", "full"},
		{"prestaged-apply.timer", "Timer", "OnBootSec", "5min"},
		{"prestaged-apply.timer", "Timer", "OnCalendar", "hourly"},
		{"prestaged-apply.timer", "Timer", "RandomizedDelaySec", "30min"},
		{"prestaged-apply.timer", "Timer", "Persistent", "true"},
		{"prestaged-apply.timer", "Install", "WantedBy", "timers.target"},
	}
	parsed := map[string]map[string]map[string][]string{}
	for _, u := range units {
		parsed[u] = parseUnit(t, filepath.Join("systemd", u))
	}
	for _, tt := range tests {
		t.Run(tt.unit+"/"+tt.key, func(t *testing.T) {
			got := parsed[tt.unit][tt.section][tt.key]
			if len(got) == 0 || got[len(got)-1] != tt.want {
				t.Errorf("[%s] %s = %q, want %q", tt.section, tt.key, got, tt.want)
			}
		})
	}
}

// verifyRoot is the .deb's content plus the host's own units and kill(1),
// so `systemd-analyze --root` resolves targets and every ExecStart path.
func verifyRoot(t *testing.T) string {
	t.Helper()
	root := extract(t, artifacts.Get(t).deb)
	unitDir := filepath.Join(root, "usr/lib/systemd/system")
	host, err := filepath.Glob("/usr/lib/systemd/system/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range host {
		dst := filepath.Join(unitDir, filepath.Base(src))
		if fi, err := os.Lstat(src); err != nil || !fi.Mode().IsRegular() {
			continue // .wants directories and aliases are not needed
		}
		if _, err := os.Stat(dst); err == nil {
			continue // never shadow a packaged unit
		}
		copyFile(t, src, dst, 0o644)
	}
	copyFile(t, "/usr/bin/kill", filepath.Join(root, "usr/bin/kill"), 0o755)
	if err := os.Symlink("usr/bin", filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	return root
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// TestUnitsVerify runs `systemd-analyze verify` on every packaged unit,
// with ExecStart pointing at the packaged /usr/bin/prestaged.
func TestUnitsVerify(t *testing.T) {
	testutil.Need(t, "systemd-analyze")
	root := verifyRoot(t)
	for _, u := range units {
		t.Run(u, func(t *testing.T) {
			out, err := runCombined("systemd-analyze", "verify", "--root="+root, filepath.Join(root, "usr/lib/systemd/system", u))
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
			}
		})
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// TestUnitsSecurity bounds the sandbox: serve needs no privileges at all;
// apply writes anywhere the spec says, so its bound is looser.
func TestUnitsSecurity(t *testing.T) {
	testutil.Need(t, "systemd-analyze")
	root := verifyRoot(t)
	tests := []struct {
		unit string
		max  float64
	}{
		{"prestaged.service", 2.0},
		{"prestaged-apply.service", 3.0},
	}
	for _, tt := range tests {
		t.Run(tt.unit, func(t *testing.T) {
			out, _ := runCombined("systemd-analyze", "security", "--offline=yes", "--root="+root, "--no-pager", tt.unit)
			m := exposure.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no exposure level in:\n%s", out)
			}
			got, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s exposure %.1f", tt.unit, got)
			if got > tt.max {
				t.Errorf("%s exposure %.1f, want at most %.1f:\n%s", tt.unit, got, tt.max, out)
			}
		})
	}
}
