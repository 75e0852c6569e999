package node

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// processCollectors are what every Prometheus exporter reports besides
// its own figures: which build runs, and the process's and Go runtime's
// resources.
func processCollectors(version, commit string) []prometheus.Collector {
	if commit == "" {
		commit = "unknown"
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "prestaged_build_info",
		Help:        "Always 1; the labels say which build of prestaged serves.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "goversion": runtime.Version()}})
	info.Set(1)
	return []prometheus.Collector{info, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector()}
}

// whenTorrent reports the seeder's figures only while the spec has a
// torrent block, so that a host that seeds nothing exports no swarm
// series. Its set of metrics depends on the spec, so it describes none
// (an unchecked collector).
type whenTorrent struct {
	ts *torrentSeeder
	cs []prometheus.Collector
}

func (w whenTorrent) Describe(chan<- *prometheus.Desc) {}

func (w whenTorrent) Collect(ch chan<- prometheus.Metric) {
	w.ts.mu.Lock()
	on := w.ts.on
	w.ts.mu.Unlock()
	if !on {
		return
	}
	for _, c := range w.cs {
		c.Collect(ch)
	}
}
