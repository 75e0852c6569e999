package peer

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/prestaged/prestaged/digest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Status is the answer to GET /v1/status.
type Status struct {
	Images      []ImageStatus `json:"images"`
	Children    int64         `json:"children"`     // downloads in progress now
	BytesServed int64         `json:"bytes_served"` // since the server started
}

// ImageStatus is one served digest.
type ImageStatus struct {
	Digest   digest.Digest `json:"digest"`
	Size     int64         `json:"size"`
	Have     int64         `json:"have"`
	Complete bool          `json:"complete"`
	// InfoHash is the v1 info-hash of the torrent this host seeds the
	// digest as, when it seeds it (WithInfoHash).
	InfoHash string `json:"infohash,omitempty"`
	Error    string `json:"error,omitempty"`
}

// WithInfoHash has Status report, for each digest, the info-hash f gives
// ("" when the digest is not seeded).
func WithInfoHash(f func(digest.Digest) string) Option {
	return func(s *Server) { s.infoHash = f }
}

// Status reports what the server serves and holds, sorted by digest.
func (s *Server) Status() Status {
	cfg := s.cfg.Load()
	st := Status{Images: []ImageStatus{}, Children: s.children.Load(), BytesServed: s.served.Load()}
	for d, size := range cfg.allowed {
		is := ImageStatus{Digest: d, Size: size}
		var err error
		is.Have, is.Complete, err = s.content.Have(d)
		if err != nil {
			is.Error = err.Error()
		}
		if s.infoHash != nil {
			is.InfoHash = s.infoHash(d)
		}
		st.Images = append(st.Images, is)
	}
	slices.SortFunc(st.Images, func(a, b ImageStatus) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	return st
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(s.Status())
}

// metrics live in a registry of their own, so several servers (the demo
// runs many in one process) never collide.
type metrics struct {
	reg      *prometheus.Registry
	bytes    prometheus.Counter
	requests *prometheus.CounterVec
	aborted  prometheus.Counter
	stalls   prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "prestaged_peer_bytes_served_total", Help: "Blob bytes sent to children."}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prestaged_peer_requests_total", Help: "Blob requests by HTTP status."}, []string{"code"}),
		aborted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "prestaged_peer_aborted_streams_total",
			Help: "Responses cut short because this host's own fetch of the blob failed."}),
		stalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "prestaged_peer_stalls_total",
			Help: "Waits of a second or more for the next bytes of a blob still being fetched."}),
	}
	children := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "prestaged_peer_children", Help: "Children downloading now."},
		func() float64 { return float64(s.children.Load()) })
	m.reg.MustRegister(m.bytes, m.requests, m.aborted, m.stalls, children)
	return m
}

// Register adds collectors to what GET /metrics reports, such as those of
// the swarm serve runs beside this server.
func (s *Server) Register(cs ...prometheus.Collector) {
	s.m.reg.MustRegister(cs...)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
