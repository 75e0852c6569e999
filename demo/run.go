package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers/peer"
	"github.com/prestaged/prestaged/internal/safe"
	"github.com/prestaged/prestaged/node"
	"github.com/prestaged/prestaged/sources"
	"github.com/prestaged/prestaged/spec"
)

// Options shape one demo run.
type Options struct {
	Hosts      int
	Size       int64
	Bandwidth  spec.Rate
	Fanout     int
	Strategies []string
	Dir        string    // parent of the run's temporary directory
	Progress   io.Writer // live lines while a strategy runs; nil: none
	Live       bool      // Progress is a terminal: redraw one line in place
}

// Row is one strategy's result: a row of the table and of --json.
type Row struct {
	Strategy string  `json:"strategy"`
	Hosts    int     `json:"hosts"`
	Seconds  float64 `json:"seconds"`
	Ratio    float64 `json:"ratio_to_bound"`
	P50      float64 `json:"p50_seconds"`
	P99      float64 `json:"p99_seconds"`
	Verified int     `json:"verified_hosts"`
}

var Strategies = map[string]string{
	"mirror":   "mirror only",
	"saf-tree": "store-and-forward binary tree",
	"tree":     "pipelined binary tree",
	"chain":    "pipelined chain",
}

// host is one simulated host: its own store, peer server and spec.
type host struct {
	addr string
	ln   net.Listener
	st   *store.Store
	spec *spec.Spec
	done atomic.Bool
	at   time.Duration
}

// makeImage writes size pseudo-random bytes (fixed seed) and returns their digest.
func makeImage(path string, size int64) (digest.Digest, error) {
	f, err := os.Create(path)
	if err != nil {
		return digest.Digest{}, err
	}
	defer f.Close()
	h := digest.New(digest.SHA256)
	rng := rand.NewChaCha8([32]byte{'p', 'r', 'e', 's', 't', 'a', 'g', 'e', 'd'})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		b := buf[:min(int64(len(buf)), left)]
		rng.Read(b)
		h.Write(b)
		if _, err := f.Write(b); err != nil {
			return digest.Digest{}, err
		}
	}
	return digest.Sum(digest.SHA256, h), f.Close()
}

// runStrategy distributes the image to fresh hosts with one strategy.
func runStrategy(ctx context.Context, o Options, strategy, root, mirrorDir string, d digest.Digest, tick func(string, []*host)) (Row, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bps := o.Bandwidth.BytesPerSecond()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Row{}, err
	}
	serveOn(ctx, mln, &mirrorServer{dir: mirrorDir, link: newLink(bps)})
	hosts, err := demoHosts(ctx, o, strategy, filepath.Join(root, strategy), "http://"+mln.Addr().String()+"/", d)
	if err != nil {
		return Row{}, err
	}
	start := time.Now()
	tickCtx, stopTick := context.WithCancel(ctx)
	safe.Tick(tickCtx, 500*time.Millisecond, func(time.Time) { tick(strategy, hosts) })
	errs := applyAll(ctx, hosts, start)
	stopTick()
	tick(strategy, hosts)
	if err := firstErr(errs); err != nil {
		return Row{}, fmt.Errorf("demo %s: %w", strategy, err)
	}
	return summarize(strategy, o, hosts, d)
}

func demoHosts(ctx context.Context, o Options, strategy, dir, mirrorURL string, d digest.Digest) ([]*host, error) {
	hosts := make([]*host, o.Hosts)
	addrs := make([]string, o.Hosts)
	for i := range hosts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		st, err := store.Open(filepath.Join(dir, fmt.Sprintf("host%02d", i), "store"))
		if err != nil {
			return nil, err
		}
		hosts[i] = &host{addr: ln.Addr().String(), ln: ln, st: st}
		addrs[i] = hosts[i].addr
	}
	fanout := o.Fanout
	if strategy == "chain" {
		fanout = 1
	}
	for i, h := range hosts {
		s := &spec.Spec{Store: h.st.Root(), StallTimeout: 10 * time.Second, Parallel: 1,
			Mirrors: []*spec.Mirror{{Name: "m", URL: mirrorURL}}}
		img := &spec.Image{Name: "demo", Digest: d, Size: o.Size, Path: "demo.img",
			Install: filepath.Join(filepath.Dir(h.st.Root()), "images", "demo.img"),
			Sources: []spec.Source{{Kind: spec.SourceMirror, Name: "m"}}}
		if strategy != "mirror" && i > 0 {
			parents, err := spec.TreeParents(addrs, fanout, h.addr)
			if err != nil {
				return nil, err
			}
			s.Peer = &spec.Peer{Listen: h.addr, Parents: parents, Pipelined: strategy != "saf-tree"}
			img.Sources = append([]spec.Source{{Kind: spec.SourceParents}}, img.Sources...)
		}
		s.Images = []*spec.Image{img}
		h.spec = s
		srv := peer.NewServer(node.Content(h.st), peer.WithAllowed(map[digest.Digest]int64{d: o.Size}),
			peer.WithUploadLimit(o.Bandwidth.BytesPerSecond()))
		serveOn(ctx, h.ln, srv)
	}
	return hosts, nil
}

// applyAll starts every host's apply at once and records when each ends.
func applyAll(ctx context.Context, hosts []*host, start time.Time) []error {
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		safe.Go(func() {
			defer wg.Done()
			srcs := sources.New(h.spec, h.st, nil)
			defer srcs.Close()
			e := &engine.Engine{Spec: h.spec, Store: h.st, Sources: srcs}
			p, err := e.Plan(ctx)
			if err == nil {
				var res *engine.Result
				if res, err = e.Apply(ctx, p); err == nil && res.Failed > 0 {
					err = fmt.Errorf("host %s: %s", h.addr, res.Outcomes[0].Error)
				}
			}
			h.at = time.Since(start)
			h.done.Store(true)
			errs[i] = err
		})
	}
	wg.Wait()
	return errs
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// summarize checks every host's copy and computes the row.
func summarize(strategy string, o Options, hosts []*host, d digest.Digest) (Row, error) {
	times := make([]float64, 0, len(hosts))
	row := Row{Strategy: strategy, Hosts: len(hosts)}
	for _, h := range hosts {
		ok, err := engine.FileHas(context.Background(), h.spec.Images[0].Install, d)
		if err != nil || !ok {
			return row, fmt.Errorf("demo %s: host %s holds a wrong copy (%v)", strategy, h.addr, err)
		}
		row.Verified++
		times = append(times, h.at.Seconds())
	}
	slices.Sort(times)
	row.Seconds = times[len(times)-1]
	bound := float64(o.Size) / float64(o.Bandwidth.BytesPerSecond())
	row.Ratio = row.Seconds / bound
	row.P50 = percentile(times, 0.50)
	row.P99 = percentile(times, 0.99)
	return row, nil
}

func percentile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
