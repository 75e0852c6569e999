package main_test

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// promtoolCheck runs `promtool check metrics` on text, the linter
// Prometheus's own exporters are held to.
func promtoolCheck(t *testing.T, what string, text []byte) {
	t.Helper()
	cmd := exec.Command(testutil.Need(t, "promtool"), "check", "metrics")
	cmd.Stdin = strings.NewReader(string(text))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics on %s: %v\n%s\n%s", what, err, out, text)
	}
}

// holdLock takes the store's lock in this process, as a running apply
// would, until the test ends.
func holdLock(t *testing.T, storeDir string) {
	t.Helper()
	testutil.Must(t, os.MkdirAll(storeDir, 0o755))
	f, err := os.OpenFile(filepath.Join(storeDir, "lock"), os.O_RDONLY|os.O_CREATE, 0o600)
	testutil.Must(t, err)
	t.Cleanup(func() { f.Close() })
	testutil.Must(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
}

// TestMetricsOnFatalRuns: every apply writes its metrics file, a fatal one
// too, with success 0 and its reason; the file passes promtool.
func TestMetricsOnFatalRuns(t *testing.T) {
	s := newSite(t)
	demo := img{name: "demo", content: randomBytes(10<<10, 8)}
	s.publish(demo)
	spec := s.spec("", true, demo)
	metrics := s.path("prestaged.prom")
	if r := run(t, "apply", "--metrics-file", metrics, spec); r.code != 0 {
		t.Fatal(r)
	}
	b, _ := os.ReadFile(metrics)
	promtoolCheck(t, "apply's metrics file", b)
	if !strings.Contains(string(b), "prestaged_apply_success 1") {
		t.Fatalf("a successful apply:\n%s", b)
	}
	holdLock(t, s.path("store"))
	fatal := func(reason string, args ...string) {
		t.Helper()
		r := run(t, append([]string{"apply", "--metrics-file", metrics}, args...)...)
		b, _ := os.ReadFile(metrics)
		text := string(b)
		if r.code != 1 || !strings.Contains(text, "prestaged_apply_success 0") ||
			!strings.Contains(text, `prestaged_apply_failure_reason{reason="`+reason+`"} 1`) {
			t.Errorf("apply failing for %s: want exit 1 and its metrics, got %s\nmetrics:\n%s", reason, r, text)
		}
		if strings.Contains(text, "prestaged_apply_last_success_timestamp_seconds 0") {
			t.Errorf("a fatal run forgot the last success:\n%s", text)
		}
	}
	fatal("lock", spec)
	bad := s.path("bad.hcl")
	testutil.Must(t, os.WriteFile(bad, []byte("image \"a\" {\n  sha256 = \"x\"\n}\n"), 0o644))
	fatal("spec", bad)
	fatal("spec", s.path("absent.hcl"))
	b, _ = os.ReadFile(metrics)
	promtoolCheck(t, "a fatal run's metrics file", b)
}

// TestMetricsDirMissing: without node_exporter's directory, apply warns in
// one line and succeeds.
func TestMetricsDirMissing(t *testing.T) {
	_, _, spec := publishedSite(t, "demo", 4<<10, 9, true)
	r := run(t, "apply", "--metrics-file", filepath.Join(t.TempDir(), "absent", "prestaged.prom"), spec)
	lines := strings.Count(r.stderr, "metrics")
	if r.code != 0 || lines != 1 || !strings.Contains(r.stderr, "warning:") {
		t.Errorf("want exit 0 and one warning line about the metrics, got %s", r)
	}
}

// TestServeMetrics: serve's GET /metrics has its build, the process and Go
// collectors, no torrent series without a torrent block, and passes
// promtool.
func TestServeMetrics(t *testing.T) {
	base := startServe(t, newSite(t).spec("", false, img{name: "vm", content: []byte("vm")}))
	resp, err := http.Get(base + "/metrics")
	testutil.Must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	testutil.Must(t, err)
	text := string(body)
	for _, want := range []string{"prestaged_build_info{", `goversion="go`, "process_resident_memory_bytes ", "go_goroutines ", "prestaged_peer_children "} {
		if !strings.Contains(text, want) {
			t.Errorf("serve's metrics lack %s", want)
		}
	}
	if strings.Contains(text, "prestaged_torrent_") {
		t.Errorf("serve exports torrent metrics without a torrent block")
	}
	promtoolCheck(t, "serve's /metrics", body)
}
