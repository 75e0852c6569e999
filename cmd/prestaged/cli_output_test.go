package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// threeMistakes has a bad digest (line 6), a misspelt attribute (line 9)
// and a source naming no mirror (line 15).
const threeMistakes = `mirror "central" {
  url = "https://images.example.org/vm/"
}

image "a" {
  sha256  = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7"
  size    = 10
  install = "/srv/images/a.img"
  sourcez = ["mirror.central"]
}

image "b" {
  sha256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  size    = 1
  sources = ["mirror.centrl"]
  install = "/srv/images/b.img"
}
`

func TestValidateReportsEveryMistake(t *testing.T) {
	p := newSite(t).path("spec.hcl")
	if err := os.WriteFile(p, []byte(threeMistakes), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "validate", p)
	lines := map[string]bool{}
	for _, m := range regexp.MustCompile(`spec\.hcl line (\d+)`).FindAllStringSubmatch(r.stderr, -1) {
		lines[m[1]] = true
	}
	want := map[string]bool{"6": true, "9": true, "15": true}
	if r.code != 1 || !cmp.Equal(want, lines) || strings.Count(r.stderr, "Error: ") != 3 {
		t.Errorf("want exit 1 and three errors on lines 6, 9 and 15, got lines %v and %s", lines, r)
	}
	for _, hint := range []string{`Did you mean "mirror.central"?`, "64 hex digits"} {
		if !strings.Contains(r.stderr, hint) {
			t.Errorf("validate output lacks %q", hint)
		}
	}

	r = run(t, "validate", "--json", p)
	var out struct {
		Valid    bool
		Problems []struct {
			Severity, Summary, File string
			Line, Column            int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 1 {
		t.Fatalf("validate --json: %v\n%s", err, r)
	}
	var got []int
	for _, pr := range out.Problems {
		got = append(got, pr.Line)
	}
	slices.Sort(got)
	if out.Valid || !cmp.Equal(got, []int{6, 9, 15}) {
		t.Errorf("validate --json: valid %t, problem lines %v", out.Valid, got)
	}
}

// TestJSONObjects: every verb's --json prints one object with the fields
// docs/json.md documents (more may be added, none renamed).
func TestJSONObjects(t *testing.T) {
	s := newSite(t)
	demo := img{name: "demo", content: randomBytes(100<<10, 6)}
	s.publish(demo)
	spec := s.spec("", true, demo)
	item := []string{"image", "action", "reason", "digest", "size", "install", "sources", "staged"}
	outcome := []string{"image", "action", "status", "bytes_by_source", "seconds"}
	result := []string{"images", "changed", "failed", "seconds"}
	tests := []struct {
		args   []string
		fields map[string][]string // JSON pointer-ish path -> keys it must have
	}{
		{[]string{"validate", "--json", spec}, map[string][]string{"": {"spec", "valid", "problems"}}},
		{[]string{"plan", "--json", spec}, map[string][]string{"": {"spec", "plan", "changes", "summary"},
			"plan": {"images"}, "plan.images.0": item}},
		{[]string{"status", "--json", spec}, map[string][]string{"": {"spec", "store", "images"}, "images.0": item}},
		{[]string{"apply", "--json", spec}, map[string][]string{"": {"spec", "plan", "result", "summary"},
			"result": result, "result.images.0": outcome}},
		{[]string{"verify", "--json", spec}, map[string][]string{"": {"spec", "checked", "result", "summary"},
			"checked.0": {"image", "digest", "install", "install_ok", "blob"}, "result": result}},
		{[]string{"version", "--json"}, map[string][]string{"": {"version", "go"}}},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			r := run(t, tt.args...)
			var v any
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			if err := dec.Decode(&v); err != nil || dec.More() || r.code != 0 {
				t.Fatalf("want exactly one JSON object and exit 0: %v\n%s", err, r)
			}
			for path, keys := range tt.fields {
				obj, ok := at(v, path).(map[string]any)
				if !ok {
					t.Errorf("%s: no object at %q in %s", tt.args[0], path, r.stdout)
					continue
				}
				for _, k := range keys {
					if _, ok := obj[k]; !ok {
						t.Errorf("%s: object at %q lacks %q", tt.args[0], path, k)
					}
				}
			}
		})
	}
}

// at walks a decoded JSON value along "a.b.0".
func at(v any, path string) any {
	if path == "" {
		return v
	}
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// TestMetricsFile: --metrics-file writes Prometheus text a textfile
// collector accepts.
func TestMetricsFile(t *testing.T) {
	s := newSite(t)
	demo := img{name: "demo", content: randomBytes(100<<10, 7)}
	s.publish(demo)
	metrics := s.path("prestaged.prom")
	if r := run(t, "apply", "--metrics-file", metrics, s.spec("", true, demo)); r.code != 0 {
		t.Fatal(r)
	}
	f, err := os.Open(metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("not Prometheus text: %v", err)
	}
	value := func(name, label, lv string) float64 {
		for _, m := range families[name].GetMetric() {
			if label == "" {
				return m.GetGauge().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == lv {
					return m.GetGauge().GetValue()
				}
			}
		}
		return -1
	}
	got := map[string]float64{
		"success":          value("prestaged_apply_success", "", ""),
		"fetched":          value("prestaged_apply_images", "status", "fetched"),
		"failed":           value("prestaged_apply_images", "status", "failed"),
		"bytes":            value("prestaged_apply_bytes", "source", "mirror.m"),
		"has_last_success": min(1, value("prestaged_apply_last_success_timestamp_seconds", "", "")),
	}
	want := map[string]float64{"success": 1, "fetched": 1, "failed": 0, "bytes": float64(len(demo.content)), "has_last_success": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// TestJSONInvalidSpec: with --json, a verb refusing an invalid spec must
// still tell the operator where the problem is (on stderr, or in JSON).
func TestJSONInvalidSpec(t *testing.T) {
	p := newSite(t).path("spec.hcl")
	bad := "image \"a\" {\n  sha256  = \"x\"\n  size    = 1\n  install = \"/srv/a.img\"\n}\n"
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"apply", "plan", "status", "verify"} {
		t.Run(verb, func(t *testing.T) {
			r := run(t, verb, "--json", p)
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "line 2") && !strings.Contains(r.stdout, `"line": 2`) {
				t.Errorf("want exit 1 and the problem's line (2) somewhere, got %s", r)
			}
		})
	}
}

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
	body := testutil.GetWhenFree(t, base+"/metrics", 10*time.Second)
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
