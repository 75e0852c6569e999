package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Run is one distribution of the image to every host by one strategy. The
// bench drives it with Start; fault tests drive hosts one by one.
type Run struct {
	tb       *Testbed
	Strategy Strategy
	t0       time.Time
	serves   []*proc
	applies  []*proc
	verify   chan struct{} // one installed copy hashed at a time
}

// HostResult is what one host's apply did, as its --json output says, and
// whether its installed copy has the image's bytes.
type HostResult struct {
	Host    string  `json:"host"`
	Seconds float64 `json:"seconds"` // from the start of the run until apply exited
	// StartSeconds is when its apply started, after the run's start; its
	// own time is Seconds less this.
	StartSeconds float64 `json:"start_seconds"`
	// Slow: its link was at a quarter of the bandwidth; Killed: it was
	// killed, so counts for nothing. LinkBits is its link's rate as tc had
	// it at the start (the lower direction), bits per second.
	Slow          bool             `json:"slow,omitempty"`
	Killed        bool             `json:"killed,omitempty"`
	LinkBits      int64            `json:"link_bits_per_second,omitempty"`
	ExitCode      int              `json:"exit_code"`
	BytesBySource map[string]int64 `json:"bytes_by_source,omitempty"`
	Resumed       int64            `json:"resumed_bytes,omitempty"`
	BadSources    []string         `json:"bad_sources,omitempty"`
	Verified      bool             `json:"verified"`
	Error         string           `json:"error,omitempty"`
	// Apply is what the host's apply (aria2c for Aria2c) used; Serve what
	// its serve used over the whole run, for strategies that run one.
	Apply *Usage `json:"apply_usage,omitempty"`
	Serve *Usage `json:"serve_usage,omitempty"`
}

// applyOutput is the part of `prestaged apply --json` the testbed reads.
type applyOutput struct {
	Result struct {
		Images []struct {
			Status     string           `json:"status"`
			Error      string           `json:"error"`
			Bytes      map[string]int64 `json:"bytes_by_source"`
			Resumed    int64            `json:"resumed_bytes"`
			BadSources []string         `json:"bad_sources"`
		} `json:"images"`
	} `json:"result"`
}

// Prepare clears every host and writes its spec for strategy s.
func (tb *Testbed) Prepare(s Strategy) (*Run, error) {
	if err := tb.resetHosts(s); err != nil {
		return nil, err
	}
	for i := range tb.cfg.Hosts {
		if err := tb.writeSpec(i, s); err != nil {
			return nil, err
		}
	}
	n := tb.cfg.Hosts
	return &Run{tb: tb, Strategy: s, serves: make([]*proc, n), applies: make([]*proc, n), verify: make(chan struct{}, 1)}, nil
}

// StartServe starts `prestaged serve` on host i and waits until it listens.
func (r *Run) StartServe(ctx context.Context, i int) error {
	p := r.tb.paths(i)
	var err error
	r.serves[i], err = r.tb.procs.start(fmt.Sprintf("serve h%d", i), hostNS(i), p.serveLog, r.tb.cfg.Prestaged, "serve", p.spec)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return r.serves[i].waitListening(wctx, peerPort, p.serveLog)
}

// Begin marks the start of the run: hosts' times are measured from here.
func (r *Run) Begin() { r.t0 = time.Now() }

// StartApply starts `prestaged apply` on host i.
func (r *Run) StartApply(i int) error {
	if r.t0.IsZero() {
		r.Begin()
	}
	p := r.tb.paths(i)
	var err error
	r.applies[i], err = r.tb.procs.start(fmt.Sprintf("apply h%d", i), hostNS(i), p.applyLog, r.tb.cfg.Prestaged,
		"apply", p.spec, "--no-progress", "--json", "--wait", "1h") // as the packaged unit waits for serve's staging run
	return err
}

// Kill kills host i's serve and apply at once, as a host dying would.
func (r *Run) Kill(i int) {
	for _, p := range []*proc{r.serves[i], r.applies[i]} {
		if p != nil {
			p.kill()
		}
	}
}

// Stop kills any apply still running and shuts every serve down, all at
// once, killing those that take more than a few seconds.
func (r *Run) Stop() {
	for _, a := range r.applies {
		if a != nil {
			a.kill()
		}
	}
	for _, p := range r.serves {
		if p != nil {
			p.signal()
		}
	}
	deadline := time.After(5 * time.Second)
	for _, p := range r.serves {
		if p == nil {
			continue
		}
		select {
		case <-p.done:
		case <-deadline:
		}
		p.kill()
	}
}

// Staged is how many bytes of the image host i holds, staged or complete.
func (r *Run) Staged(i int) int64 {
	if st := r.held(i); st != nil {
		return st.Size()
	}
	return 0
}

// held is host i's blob of the image, or else its staging file, or nil.
func (r *Run) held(i int) os.FileInfo {
	p := r.tb.paths(i)
	for _, f := range []string{p.blob, p.stage} {
		if st, err := os.Stat(f); err == nil {
			return st
		}
	}
	return nil
}

// WaitApply waits for host i's apply, reads its --json output and hashes
// its installed copy (then removes the copy, unless Keep, to spare memory).
func (r *Run) WaitApply(ctx context.Context, i int) HostResult {
	res := HostResult{Host: hostAddr(i), ExitCode: -1}
	a := r.applies[i]
	if a == nil {
		res.Error = "apply was not started"
		return res
	}
	if err := a.wait(ctx); err != nil {
		res.Error = fmt.Sprintf("apply did not finish: %v", err)
		return res
	}
	res.Seconds = a.end.Sub(r.t0).Seconds()
	res.ExitCode = a.cmd.ProcessState.ExitCode()
	res.Apply = a.resources()
	p := r.tb.paths(i)
	var out applyOutput
	if err := json.Unmarshal(a.stdout.Bytes(), &out); err != nil || len(out.Result.Images) != 1 {
		res.Error = fmt.Sprintf("apply exit %d, no JSON result (%v)%s", res.ExitCode, err, tail(p.applyLog))
		return res
	}
	img := out.Result.Images[0]
	res.BytesBySource, res.Resumed, res.BadSources = img.Bytes, img.Resumed, img.BadSources
	if res.ExitCode != 0 || img.Status == "failed" {
		res.Error = fmt.Sprintf("apply exit %d, image %s: %s%s", res.ExitCode, img.Status, img.Error, tail(p.applyLog))
		return res
	}
	if err := r.check(ctx, p.install); err != nil {
		res.Error = err.Error()
		return res
	}
	res.Verified = true
	if !r.tb.cfg.Keep {
		_ = os.Remove(p.install)
	}
	return res
}

var errWrongBytes = errors.New("installed copy does not have the image's bytes")

// check hashes an installed copy; one at a time, to leave the CPU to the run.
func (r *Run) check(ctx context.Context, path string) error {
	select {
	case r.verify <- struct{}{}:
		defer func() { <-r.verify }()
	case <-ctx.Done():
		return ctx.Err()
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("installed copy: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	if err != nil {
		return fmt.Errorf("installed copy %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != r.tb.raw.size || got != r.tb.raw.digest {
		return fmt.Errorf("%s: %w: %d bytes, sha256 %s", path, errWrongBytes, n, got)
	}
	return nil
}
