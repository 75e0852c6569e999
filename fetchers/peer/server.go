package peer

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prestaged/prestaged/digest"
	"golang.org/x/time/rate"
)

// Server is the peer protocol's HTTP handler. Create it with NewServer; the
// served set, child cap and upload limit may be replaced at any time (spec
// reload) with the Set methods.
type Server struct {
	content Content
	log     *slog.Logger
	cfg     atomic.Pointer[serverConfig]
	cfgMu   sync.Mutex // serialises read-modify-write of cfg
	limiter *rate.Limiter
	mux     *http.ServeMux
	m       *metrics

	children atomic.Int64
	served   atomic.Int64
	infoHash func(digest.Digest) string // nil: no torrents
	missing  func(digest.Digest)        // nil: nobody to tell
}

// DefaultStallTimeout bounds each write to a child until SetStallTimeout
// sets the spec's stall timeout.
const DefaultStallTimeout = 30 * time.Second

// serverConfig is what a spec reload replaces as a whole.
type serverConfig struct {
	allowed      map[digest.Digest]int64 // digest -> size
	maxChildren  int64                   // 0: unlimited
	stallTimeout time.Duration           // 0: writes have no deadline; DefaultStallTimeout until set
}

// Option configures a Server.
type Option func(*Server)

// WithAllowed sets the digests served and their sizes (see SetAllowed).
func WithAllowed(allowed map[digest.Digest]int64) Option {
	return func(s *Server) { s.SetAllowed(allowed) }
}

// WithMaxChildren caps concurrent blob downloads (see SetMaxChildren).
func WithMaxChildren(n int) Option { return func(s *Server) { s.SetMaxChildren(n) } }

// WithUploadLimit caps upload bandwidth (see SetUploadLimit).
func WithUploadLimit(bytesPerSecond int64) Option {
	return func(s *Server) { s.SetUploadLimit(bytesPerSecond) }
}

// WithStallTimeout sets how long a child may go without accepting bytes
// (see SetStallTimeout).
func WithStallTimeout(d time.Duration) Option { return func(s *Server) { s.SetStallTimeout(d) } }

// WithOnMissing sets f, told (without waiting for it) when a child asks for
// a digest the server may serve but neither holds nor is fetching: the host
// can start fetching it, so that a child that started first waits for its
// parent instead of going to the mirror.
func WithOnMissing(f func(digest.Digest)) Option { return func(s *Server) { s.missing = f } }

// WithLogger sets where the server logs aborted streams and errors.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// NewServer returns a handler serving content. Until WithAllowed or
// SetAllowed names digests, every blob request is answered 404.
func NewServer(content Content, opts ...Option) *Server {
	s := &Server{
		content: content,
		log:     slog.New(slog.DiscardHandler),
		limiter: rate.NewLimiter(rate.Inf, limitChunk),
		mux:     http.NewServeMux(),
	}
	s.cfg.Store(&serverConfig{stallTimeout: DefaultStallTimeout})
	s.m = newMetrics(s)
	for _, o := range opts {
		o(s)
	}
	s.mux.HandleFunc("GET "+BlobPrefix+"{algo}/{hex}", s.serveBlob)
	s.mux.HandleFunc("GET "+StatusPath, s.serveStatus)
	s.mux.Handle("GET "+MetricsPath, s.m.handler())
	return s
}

func (s *Server) update(f func(c *serverConfig)) {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	c := *s.cfg.Load()
	f(&c)
	s.cfg.Store(&c)
}

// SetAllowed replaces the set of digests served, each with its size. Only
// these are served; requests in flight keep the set they started with.
func (s *Server) SetAllowed(allowed map[digest.Digest]int64) {
	m := maps.Clone(allowed)
	s.update(func(c *serverConfig) { c.allowed = m })
}

// SetMaxChildren caps how many children may download at once; 0 means no
// cap. A child over the cap gets 503 and tries its next parent.
func (s *Server) SetMaxChildren(n int) {
	s.update(func(c *serverConfig) { c.maxChildren = int64(max(n, 0)) })
}

// SetStallTimeout bounds how long one write to a child may block: a child
// that stops reading (or accepts less than limitChunk bytes in d) has its
// connection closed and loses its slot, so children that read keep the
// slots. 0 or less means no bound. The deadline is renewed before every
// chunk written, so a long transfer that keeps moving is never cut off.
func (s *Server) SetStallTimeout(d time.Duration) {
	s.update(func(c *serverConfig) { c.stallTimeout = max(d, 0) })
}

// SetUploadLimit caps the bytes per second sent to all children together;
// 0 or less means unlimited.
func (s *Server) SetUploadLimit(bytesPerSecond int64) {
	if bytesPerSecond <= 0 {
		s.limiter.SetLimit(rate.Inf)
		return
	}
	s.limiter.SetBurst(limitChunk)
	s.limiter.SetLimit(rate.Limit(bytesPerSecond))
}

// ServeHTTP implements http.Handler. Every answer is written under the
// stall timeout's write deadline, so a client that sends requests and
// never reads the answers holds no goroutine for long.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	newWriteDeadline(w, s.cfg.Load().stallTimeout).renew()
	s.mux.ServeHTTP(w, r)
}

// serveBlob answers GET /v1/blobs/<algo>/<hex>.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request) {
	cfg := s.cfg.Load()
	d, err := digest.FromHex(digest.Algo(r.PathValue("algo")), r.PathValue("hex"))
	size, ok := cfg.allowed[d]
	if err != nil || !ok {
		s.reply(w, http.StatusNotFound, "not served here")
		return
	}
	rng, err := parseRange(r.Header.Get("Range"), size)
	if err != nil {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		s.reply(w, http.StatusRequestedRangeNotSatisfiable, err.Error())
		return
	}
	completeOnly := r.URL.Query().Get(QueryComplete) == "1"
	if r.Method == http.MethodHead {
		s.head(w, d, rng, size, completeOnly)
		return
	}
	if !s.admit(cfg.maxChildren) {
		w.Header().Set("Retry-After", "1")
		s.reply(w, http.StatusServiceUnavailable, "too many children, try another parent")
		return
	}
	defer s.children.Add(-1)
	rc, err := s.content.Open(r.Context(), d, size, rng.start, completeOnly)
	if errors.Is(err, ErrNotYet) {
		s.notYet(w, d)
		return
	}
	if err != nil {
		// Not something waiting fixes (a blob of the wrong size, an I/O
		// error): the child moves on to its next parent at once.
		s.log.Warn("peer: cannot serve", "digest", d.Short(), "err", err)
		s.reply(w, http.StatusInternalServerError, "cannot serve this blob")
		return
	}
	defer rc.Close()
	s.stream(w, r, d, rng, size, rc, cfg.stallTimeout)
}

// head answers HEAD from what the content reports holding: the headers a
// GET would get, without a child slot, the upload limit or a read of the
// blob, and without counting as served. Every answer says how many bytes
// are held, so that a child can compare its parent with another host.
func (s *Server) head(w http.ResponseWriter, d digest.Digest, rng byteRange, size int64, completeOnly bool) {
	have, complete, err := s.content.Have(d)
	if err == nil {
		w.Header().Set(HeaderHave, strconv.FormatInt(have, 10))
	}
	switch {
	case err != nil:
		s.log.Warn("peer: state unknown", "digest", d.Short(), "err", err)
		s.reply(w, http.StatusInternalServerError, "cannot serve this blob")
	case complete || (!completeOnly && have > 0):
		s.writeHeader(w, rng, size)
	default:
		s.notYet(w, d)
	}
}

// admit counts a child in unless the cap is reached.
func (s *Server) admit(limit int64) bool {
	for {
		n := s.children.Load()
		if limit > 0 && n >= limit {
			return false
		}
		if s.children.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// notYet answers 503 with the bytes held, so a waiting child sees progress.
// It sends no Retry-After: children honour one, and a whole second per
// level of the tree would slow a rollout whose children poll more often.
func (s *Server) notYet(w http.ResponseWriter, d digest.Digest) {
	have, _, err := s.content.Have(d)
	if err != nil {
		s.log.Warn("peer: state unknown", "digest", d.Short(), "err", err)
	}
	w.Header().Set(HeaderHave, strconv.FormatInt(have, 10))
	fetching := false
	if fr, ok := s.content.(FetchReporter); ok && fr.Fetching(d) {
		w.Header().Set(HeaderFetching, "1")
		fetching = true
	}
	if !fetching && err == nil && s.missing != nil {
		s.missing(d)
	}
	s.reply(w, http.StatusServiceUnavailable, "not here yet")
}

// reply answers code with msg, under a write deadline renewed now: the
// answer may come after a long wait for content.
func (s *Server) reply(w http.ResponseWriter, code int, msg string) {
	newWriteDeadline(w, s.cfg.Load().stallTimeout).renew()
	s.m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	http.Error(w, msg, code)
}
