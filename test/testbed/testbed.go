package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

const imageName = "vm.img"

// Testbed is the network, the mirror and the shared tmpfs; runs of each
// strategy reuse it. Close removes everything it made.
type Testbed struct {
	cfg    Config
	dir    string // temp dir on disk: binary, configs, logs
	fs     string // tmpfs: the mirror's image and every host's store
	fsSize int64
	images map[string]published // by format
	raw    published            // the raw image, what every host must end up with
	pub    published            // what the current row distributes

	net     network
	procs   procs
	nginx   *proc
	cpu     *cpuMeter
	stopCPU context.CancelFunc
	unlock  func()
	allowCC func() // restores the allowed congestion controls

	strategy Strategy // the one resetHosts made the hosts for
	scenario Scenario // the one the current row runs
}

// New builds the testbed: it takes the lock, cleans what an earlier killed
// run left, mounts the tmpfs, writes the image, creates the network and
// starts nginx on the mirror host. On error everything made is removed.
func New(ctx context.Context, cfg Config) (tb *Testbed, err error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	tb = &Testbed{cfg: cfg, net: network{rate: int64(cfg.Bandwidth), mtu: cfg.MTU, cc: cfg.CongestionControl}}
	if cfg.GoMaxProcs > 0 {
		tb.procs.env = []string{"GOMAXPROCS=" + strconv.Itoa(cfg.GoMaxProcs)}
	}
	if tb.unlock, err = lock(ctx); err != nil {
		return nil, err
	}
	var mctx context.Context
	mctx, tb.stopCPU = context.WithCancel(context.Background())
	tb.cpu = startCPUMeter(mctx)
	defer func() {
		if err != nil {
			tb.Close()
		}
	}()
	cleanStale(ctx)
	if err := repairAllowedCC(); err != nil {
		return tb, err
	}
	if tb.allowCC, err = allowCongestionControl(cfg.CongestionControl); err != nil {
		return tb, err
	}
	if tb.dir, err = os.MkdirTemp("", tempPattern); err != nil {
		return tb, err
	}
	steps := []func(context.Context) error{tb.binary, tb.mount, tb.writeImage, tb.network, tb.startNginx}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return tb, err
		}
	}
	return tb, nil
}

// Close kills every process, deletes the namespaces, unmounts the tmpfs and
// removes the temp dir; with Keep it leaves all but the processes for
// inspection (the next run removes them).
func (tb *Testbed) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tb.procs.killAll()
	if tb.stopCPU != nil {
		tb.stopCPU()
	}
	if tb.cfg.Keep && tb.dir != "" {
		tb.cfg.logf("kept %s and the %s* namespaces; the next run removes them", tb.dir, prefix)
	} else {
		tb.net.teardown(ctx)
		if tb.fs != "" {
			if err := syscall.Unmount(tb.fs, 0); err != nil {
				_ = syscall.Unmount(tb.fs, syscall.MNT_DETACH)
			}
		}
		if tb.dir != "" {
			_ = os.RemoveAll(tb.dir)
		}
	}
	if tb.allowCC != nil {
		tb.allowCC()
		tb.allowCC = nil
	}
	if tb.unlock != nil {
		tb.unlock()
		tb.unlock = nil
	}
}

// binary builds prestaged statically unless a binary was given.
func (tb *Testbed) binary(ctx context.Context) error {
	if tb.cfg.Prestaged != "" {
		p, err := filepath.Abs(tb.cfg.Prestaged)
		tb.cfg.Prestaged = p
		return err
	}
	tb.cfg.Prestaged = filepath.Join(tb.dir, "prestaged")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tb.cfg.Prestaged, "github.com/prestaged/prestaged/cmd/prestaged")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build prestaged: %w\n%s", err, out)
	}
	return nil
}

// mount puts a tmpfs under the temp dir, big enough for every host's blob
// and installed copy plus the mirror's image: all hosts share one disk here.
func (tb *Testbed) mount(context.Context) error {
	tb.fs = filepath.Join(tb.dir, "fs")
	if err := os.Mkdir(tb.fs, 0o700); err != nil {
		return err
	}
	tb.fsSize = int64(tb.cfg.Hosts)*tb.cfg.Size*2 + tb.cfg.Size + 256<<20
	if avail := memAvailable(); avail > 0 && tb.fsSize > avail*3/4 {
		// Sparse images need less than their size; beyond memory, a full
		// tmpfs fails a write, where an unbounded one has the kernel kill
		// the run.
		tb.fsSize = avail * 3 / 4
	}
	opts := "size=" + strconv.FormatInt(tb.fsSize, 10) + ",mode=0700"
	if err := syscall.Mount(prefix+"testbed", tb.fs, "tmpfs", 0, opts); err != nil {
		tb.fs = ""
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	return nil
}

func (tb *Testbed) network(ctx context.Context) error {
	tb.cfg.logf("network: %d hosts and a mirror on %s in namespace %s, links capped at %s, MTU %d, TCP %s", tb.cfg.Hosts, bridge, switchNS, tb.cfg.Bandwidth, tb.cfg.mtu(), tb.cfg.congestionControl())
	return tb.net.setup(ctx, tb.cfg.Hosts)
}

// startNginx runs the mirror: nginx in the mirror namespace.
func (tb *Testbed) startNginx(ctx context.Context) error {
	dir := filepath.Join(tb.dir, "nginx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	conf, err := testutil.NginxConfig(dir, mirrorAddr+":80", filepath.Join(tb.fs, "mirror"))
	if err != nil {
		return err
	}
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return fmt.Errorf("the mirror needs nginx: %w", err)
	}
	log := filepath.Join(dir, "error.log")
	tb.nginx, err = tb.procs.start("nginx", mirrorNS, log, bin, "-p", dir, "-c", conf, "-e", log)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return tb.nginx.waitListening(wctx, 80, log)
}

// memAvailable is the kernel's estimate of memory available without
// swapping, in bytes; 0 when unknown.
func memAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
