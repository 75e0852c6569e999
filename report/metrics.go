package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrNoMetricsDir: the metrics file's directory does not exist, as on a
// host without node_exporter; apply warns and goes on.
var ErrNoMetricsDir = errors.New("metrics not written: no such directory")

// MetricsFile writes this run's metrics to path, telling w in one line
// when it could not: a warning when the directory is missing, an error
// otherwise. It never fails the run.
func MetricsFile(w io.Writer, path string, res *engine.Result, p *engine.Plan, reason Reason) {
	err := WriteMetrics(path, res, p, reason)
	switch {
	case errors.Is(err, ErrNoMetricsDir):
		fmt.Fprintf(w, "prestaged: warning: %v (is node_exporter installed?)\n", err)
	case err != nil:
		fmt.Fprintln(w, "prestaged: metrics:", err)
	}
}

// WriteMetrics writes this run's metrics for node_exporter's textfile
// collector, whatever the run's outcome, so that a fatal error replaces
// the last run's success; prometheus.WriteToTextfile renames a temp file
// into place. The last-success time survives a failed run: it is read
// back from the previous file.
func WriteMetrics(path string, res *engine.Result, p *engine.Plan, reason Reason) error {
	if dir := filepath.Dir(path); !isDir(dir) {
		return fmt.Errorf("%w %s", ErrNoMetricsDir, dir)
	}
	reg := prometheus.NewRegistry()
	images := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "prestaged_apply_images", Help: "Images by outcome of the last apply."}, []string{"status"})
	bytes := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "prestaged_apply_bytes", Help: "Bytes fetched by the last apply, by source."}, []string{"source"})
	dur := prometheus.NewGauge(prometheus.GaugeOpts{Name: "prestaged_apply_duration_seconds", Help: "Duration of the last apply."})
	ok := prometheus.NewGauge(prometheus.GaugeOpts{Name: "prestaged_apply_success", Help: "1 if the last apply had no failure."})
	last := prometheus.NewGauge(prometheus.GaugeOpts{Name: "prestaged_apply_last_success_timestamp_seconds", Help: "Unix time of the last apply without failure."})
	why := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "prestaged_apply_failure_reason", Help: "1 for the reason the last apply failed, 0 for the others."}, []string{"reason"})
	reg.MustRegister(images, bytes, dur, ok, last, why)
	reg.MustRegister(imageGauges(res, p)...)
	for _, s := range []string{"ok", "fetched", "replaced", "removed", "adopted", "failed"} {
		images.WithLabelValues(s)
	}
	for _, r := range Reasons {
		why.WithLabelValues(string(r))
	}
	if res != nil {
		for _, o := range res.Outcomes {
			images.WithLabelValues(string(o.Status)).Inc()
			for src, n := range o.Bytes {
				bytes.WithLabelValues(sourceLabel(src)).Add(float64(n))
			}
		}
		dur.Set(res.Seconds)
	}
	if reason == ReasonNone {
		ok.Set(1)
		last.Set(float64(time.Now().Unix()))
	} else {
		why.WithLabelValues(string(reason)).Set(1)
		last.Set(previousGauge(path, "prestaged_apply_last_success_timestamp_seconds"))
	}
	return prometheus.WriteToTextfile(path, reg)
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// sourceLabel bounds a source's name for a label: an endorsed source is
// named by its image's URL, one series per image ever endorsed.
func sourceLabel(src string) string {
	if strings.HasPrefix(src, "endorsed ") {
		return "endorsed"
	}
	return src
}

func previousGauge(path, name string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return n
		}
	}
	return 0
}

// imageGauges are the life of each image (installed, size, last change)
// and the time left on each trust's list, so that an alert fires before a
// late re-signing removes images farm-wide.
func imageGauges(res *engine.Result, p *engine.Plan) []prometheus.Collector {
	installed := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "prestaged_image_installed", Help: "1 if the image is installed after the last apply."}, []string{"image"})
	size := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "prestaged_image_size_bytes", Help: "Size of the installed image."}, []string{"image"})
	changed := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "prestaged_image_last_change_timestamp_seconds", Help: "Unix time prestaged last installed the image."}, []string{"image"})
	expiry := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "prestaged_list_expiry_seconds", Help: "Seconds until the trust's accepted image list expires."}, []string{"trust"})
	if p != nil {
		for _, it := range p.Items {
			if it.Action != engine.ActionRemove {
				installed.WithLabelValues(it.Image)
			}
		}
		for t, at := range p.ListExpires {
			expiry.WithLabelValues(t).Set(time.Until(at).Seconds())
		}
	}
	if res != nil {
		for _, im := range res.Installed {
			installed.WithLabelValues(im.Image).Set(1)
			size.WithLabelValues(im.Image).Set(float64(im.Size))
			changed.WithLabelValues(im.Image).Set(float64(im.Changed.Unix()))
		}
	}
	return []prometheus.Collector{installed, size, changed, expiry}
}
