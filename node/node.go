// Package node assembles `prestaged serve`: one Run that feeds this host's
// children (the peer server), seeds its images to the swarm, follows the
// image lists apply accepted, reloads on SIGHUP and speaks systemd.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers/peer"
	"github.com/prestaged/prestaged/internal/safe"
	"github.com/prestaged/prestaged/spec"
	"golang.org/x/sys/unix"
)

// Config is what a node needs besides its spec file.
type Config struct {
	// SpecPath is the spec file, read again on SIGHUP.
	SpecPath string
	// Load reads and validates a spec, reporting its diagnostics; a spec
	// that does not load on SIGHUP changes nothing.
	Load func(path string) (*spec.Spec, error)
	// Listen overrides the spec's peer.listen; systemd's socket, when it
	// passes one (LISTEN_FDS), overrides both.
	Listen string
	// ShutdownTimeout is how long children may finish their downloads
	// once ctx is done.
	ShutdownTimeout time.Duration
	Log             *slog.Logger
	// Fetch, if set, converges the host (an apply of the spec); serve runs
	// it when a child asks for an image the host neither holds nor fetches.
	Fetch func(context.Context) error
	// Version and Commit label prestaged_build_info on GET /metrics.
	Version, Commit string
}

// Run serves the spec's images until ctx is done: the peer server (with
// its slots, upload limit and stall timeout), the torrent seeder when the
// spec has a torrent block, the watcher of accepted image lists, SIGHUP
// reloads, and systemd's readiness, status and watchdog.
func Run(ctx context.Context, cfg Config) error {
	s, err := cfg.Load(cfg.SpecPath)
	if err != nil {
		return err
	}
	st, err := store.Open(s.Store)
	if err != nil {
		return err
	}
	log := cfg.Log
	ts, err := startTorrentSeeder(ctx, s, st, log)
	if err != nil {
		return err
	}
	defer ts.Close()
	opts := []peer.Option{peer.WithLogger(log), peer.WithInfoHash(ts.infoHash)}
	if cfg.Fetch != nil {
		opts = append(opts, peer.WithOnMissing((&demand{ctx: ctx, fetch: cfg.Fetch, log: log}).missing))
	}
	srv := peer.NewServer(storeContent{st}, opts...)
	srv.Register(whenTorrent{ts: ts, cs: ts.collectors()})
	srv.Register(processCollectors(cfg.Version, cfg.Commit)...)
	lists := &listWatcher{log: log}
	images := configureServer(srv, ts, lists, s)
	ln, where, err := listener(cfg.Listen, s)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           serveHandler(srv, ts),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	safe.Go(func() { errc <- hs.Serve(ln) })
	log.Info("serving", "listen", where, "images", images, "store", st.Root())
	sdNotify(log, daemon.SdNotifyReady, statusLine(srv, images))
	stop := startWatchdog(ctx, log, st)
	defer stop()
	ss := serveState{cfg: cfg, srv: srv, hs: hs, log: log, images: images, spec: s, torrent: ts, lists: lists}
	return ss.loop(ctx, errc)
}

// serveState is what the signal loop needs.
type serveState struct {
	cfg    Config
	srv    *peer.Server
	hs     *http.Server
	log    *slog.Logger
	images int
	spec   *spec.Spec
	// torrent seeds the spec's images when it has a torrent block.
	torrent *torrentSeeder
	lists   *listWatcher
}

// loop reloads on SIGHUP, refreshes the systemd status, and shuts down
// when ctx is done.
func (ss *serveState) loop(ctx context.Context, errc <-chan error) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-hup:
			ss.reload()
		case <-tick.C:
			sdNotify(ss.log, statusLine(ss.srv, ss.images))
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			return ss.shutdown(ss.cfg.ShutdownTimeout)
		}
	}
}

// reload re-reads the spec: a spec that does not validate changes nothing.
// The store and listen address are kept; they need a restart.
func (ss *serveState) reload() {
	sdNotify(ss.log, "RELOADING=1", "MONOTONIC_USEC="+strconv.FormatInt(monotonicUsec(), 10))
	path := ss.cfg.SpecPath
	s, err := ss.cfg.Load(path)
	if err != nil {
		ss.log.Error("reload failed; still serving the previous spec", "spec", path, "err", err)
		sdNotify(ss.log, daemon.SdNotifyReady, "STATUS=reload of "+path+" failed; serving the previous spec")
		return
	}
	if s.Store != ss.spec.Store {
		ss.log.Warn("the store moved; restart prestaged serve to serve it", "old", ss.spec.Store, "new", s.Store)
	}
	if err := ss.torrent.configure(s); err != nil {
		ss.log.Error("reload: torrent", "err", err)
	}
	ss.images, ss.spec = configureServer(ss.srv, ss.torrent, ss.lists, s), s
	ss.log.Info("reloaded", "spec", path, "images", ss.images)
	sdNotify(ss.log, daemon.SdNotifyReady, statusLine(ss.srv, ss.images))
}

// shutdown stops accepting children and lets those downloading finish for
// up to grace; the rest are cut off and resume from another source.
func (ss *serveState) shutdown(grace time.Duration) error {
	sdNotify(ss.log, daemon.SdNotifyStopping, "STATUS=stopping")
	ss.log.Info("stopping", "children", ss.srv.Status().Children, "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := ss.hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		ss.log.Warn("children still downloading after the grace period; cutting them off")
		return ss.hs.Close()
	}
	return err
}

// configureServer serves the spec's pinned images, and its endorsed images
// as the lists this host accepted give them (trust.go), with the
// spec's limits; ts seeds the endorsed images too. It returns how many
// images are served.
func configureServer(srv *peer.Server, ts *torrentSeeder, lists *listWatcher, s *spec.Spec) int {
	pinned := map[digest.Digest]int64{}
	for _, img := range s.Images {
		if !img.Digest.IsZero() {
			pinned[img.Digest] = img.Size
		}
	}
	served := lists.serveAllowed(srv, s, pinned, ts.setEndorsed)
	var limit int64
	var children int
	if s.Peer != nil {
		limit, children = s.Peer.UploadLimit.BytesPerSecond(), s.Peer.MaxChildren
	}
	srv.SetUploadLimit(limit)
	srv.SetMaxChildren(children)
	srv.SetStallTimeout(s.StallTimeout) // a child that stops reading this long loses its slot
	return served
}

// listener is the socket systemd passed (LISTEN_FDS), else a TCP
// listener on --listen, the spec's peer.listen, or the default port.
func listener(flag string, s *spec.Spec) (net.Listener, string, error) {
	if os.Getenv("LISTEN_FDS") != "" {
		lns, err := activation.Listeners()
		if err != nil {
			return nil, "", fmt.Errorf("serve: socket activation: %w", err)
		}
		for i, ln := range lns {
			if ln != nil {
				for _, other := range lns[i+1:] {
					if other != nil {
						other.Close()
					}
				}
				return ln, ln.Addr().String() + " (socket activation)", nil
			}
		}
		return nil, "", fmt.Errorf("serve: LISTEN_FDS is set but systemd passed no listening stream socket")
	}
	addr := flag
	if addr == "" && s.Peer != nil {
		addr = s.Peer.Listen
	}
	if addr == "" {
		addr = spec.DefaultListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("serve: %w (is another prestaged serve running?)", err)
	}
	return ln, ln.Addr().String(), nil
}

// startWatchdog pings systemd at half WATCHDOG_USEC while the store is
// reachable: a hung disk stops the pings and systemd restarts the server.
func startWatchdog(ctx context.Context, log *slog.Logger, st *store.Store) func() {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	safe.Tick(ctx, interval/2, func(time.Time) {
		if _, err := os.Stat(st.Root()); err != nil {
			log.Error("store unreachable; not pinging the watchdog", "err", err)
			return
		}
		sdNotify(log, daemon.SdNotifyWatchdog)
	})
	return cancel
}

func statusLine(srv *peer.Server, images int) string {
	st := srv.Status()
	return fmt.Sprintf("STATUS=serving %d images to %d children; %s sent", images, st.Children, spec.FormatBytes(st.BytesServed))
}

// sdNotify sends state lines to systemd; outside systemd it does nothing.
func sdNotify(log *slog.Logger, lines ...string) {
	state := ""
	for _, l := range lines {
		state += l + "\n"
	}
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("systemd notification failed", "err", err)
	}
}

func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1000
}
