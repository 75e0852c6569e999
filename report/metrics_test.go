package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/engine"
)

// TestImageMetrics: each image of the plan has a gauge saying whether it
// is installed, with its size and last change, and each trust the time
// left on its list.
func TestImageMetrics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prestaged.prom")
	changed := time.Unix(1_700_000_000, 0)
	p := &engine.Plan{
		Items:       []engine.Item{{Image: "cernvm", Action: engine.ActionOK}, {Image: "new", Action: engine.ActionFetch}, {Image: "old", Action: engine.ActionRemove}},
		ListExpires: map[string]time.Time{"cern": time.Now().Add(48 * time.Hour)},
	}
	res := &engine.Result{Outcomes: []engine.Outcome{{Image: "cernvm", Status: engine.StatusOK}, {Image: "new", Status: engine.StatusFailed}, {Image: "old", Status: engine.StatusRemoved}},
		Installed: []engine.Installed{{Image: "cernvm", Size: 1024, Changed: changed}}}
	if err := WriteMetrics(path, res, p, ReasonImages); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		`prestaged_image_installed{image="cernvm"} 1`,
		`prestaged_image_installed{image="new"} 0`,
		`prestaged_image_size_bytes{image="cernvm"} 1024`,
		`prestaged_image_last_change_timestamp_seconds{image="cernvm"} 1.7e+09`,
		`prestaged_list_expiry_seconds{trust="cern"} 172`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, `image="old"`) {
		t.Errorf("a removed image has gauges:\n%s", text)
	}
}

// TestMissingDirs: each missing parent once, an existing one not at all.
func TestMissingDirs(t *testing.T) {
	dir := t.TempDir()
	got := MissingDirs([]string{filepath.Join(dir, "a.img"), filepath.Join(dir, "x", "b.img"), filepath.Join(dir, "x", "c.img")})
	if len(got) != 1 || got[0] != filepath.Join(dir, "x") {
		t.Errorf("MissingDirs: %v, want [%s]", got, filepath.Join(dir, "x"))
	}
}

// TestMetricsFatalRun: a run stopped before it planned says so, keeps the
// last success's time, and names an endorsed source without its URL.
func TestMetricsFatalRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prestaged.prom")
	res := &engine.Result{Outcomes: []engine.Outcome{{Image: "vm", Status: engine.StatusFetched,
		Bytes: map[string]int64{"endorsed https://images.example.org/vm-42.img": 7}}}}
	if err := WriteMetrics(path, res, nil, ReasonNone); err != nil {
		t.Fatal(err)
	}
	last := previousGauge(path, "prestaged_apply_last_success_timestamp_seconds")
	if err := WriteMetrics(path, nil, nil, ReasonOf(ReasonLock, errors.New("held"), nil, nil)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{"prestaged_apply_success 0", `prestaged_apply_failure_reason{reason="lock"} 1`, `prestaged_apply_failure_reason{reason="spec"} 0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("a fatal run's metrics lack %s:\n%s", want, b)
		}
	}
	if got := previousGauge(path, "prestaged_apply_last_success_timestamp_seconds"); got != last || last == 0 {
		t.Errorf("last success %v after a fatal run, want %v", got, last)
	}
	if sourceLabel("endorsed https://images.example.org/vm-42.img") != "endorsed" {
		t.Error("an endorsed source's label carries its URL")
	}
	if err := WriteMetrics(filepath.Join(path, "absent", "x.prom"), nil, nil, ReasonSpec); !errors.Is(err, ErrNoMetricsDir) {
		t.Errorf("missing directory: %v, want ErrNoMetricsDir", err)
	}
}
