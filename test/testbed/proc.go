package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one program running in a namespace, in its own process group so
// that it and its children (nginx workers) are killed together.
type proc struct {
	name   string
	cmd    *exec.Cmd
	start  time.Time
	stdout bytes.Buffer

	done  chan struct{}
	end   time.Time
	err   error  // of Wait, valid after done
	usage *Usage // from wait4, valid after done; nil if unknown
}

// Usage is what one process used, as wait4 reports it: its peak resident
// memory and the CPU time it spent in user and kernel mode.
type Usage struct {
	MaxRSS     int64   `json:"max_rss_bytes"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// usageOf reads a reaped process's rusage. `ip netns exec` execs the
// program, so this is the program's (ip's own few MiB before the exec
// count toward the peak, which is noise at these sizes).
func usageOf(ps *os.ProcessState) *Usage {
	if ps == nil {
		return nil
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return nil
	}
	sec := func(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }
	return &Usage{MaxRSS: ru.Maxrss << 10, CPUSeconds: sec(ru.Utime) + sec(ru.Stime)}
}

// resources is p's usage once it has exited, else nil.
func (p *proc) resources() *Usage {
	if p == nil || !p.exited() {
		return nil
	}
	return p.usage
}

// procs are every process the testbed started and has not yet reaped.
type procs struct {
	env []string // added to the testbed's own environment
	mu  sync.Mutex
	set map[*proc]bool
}

// start runs bin with args in namespace ns; stderr goes to logPath.
func (ps *procs) start(name, ns, logPath, bin string, args ...string) (*proc, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, log
	if len(ps.env) > 0 {
		p.cmd.Env = append(os.Environ(), ps.env...)
	}
	// Pdeathsig: if the testbed itself is killed, its hosts die with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	ps.mu.Lock()
	if ps.set == nil {
		ps.set = map[*proc]bool{}
	}
	ps.set[p] = true
	ps.mu.Unlock()
	go func() {
		p.err = p.cmd.Wait()
		p.end = time.Now()
		p.usage = usageOf(p.cmd.ProcessState)
		ps.mu.Lock()
		delete(ps.set, p)
		ps.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// killAll kills every live process group and waits for them.
func (ps *procs) killAll() {
	ps.mu.Lock()
	live := make([]*proc, 0, len(ps.set))
	for p := range ps.set {
		live = append(live, p)
	}
	ps.mu.Unlock()
	for _, p := range live {
		p.kill()
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill kills p's process group at once and waits for p. Once p has been
// reaped its id may belong to someone else: then nothing is signalled.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// signal asks p to shut down gracefully.
func (p *proc) signal() {
	if !p.exited() {
		_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	}
}

// wait waits for p to exit or ctx to end.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitListening waits until p listens on TCP port, read from p's own
// /proc/PID/net/tcp, which shows the sockets of p's network namespace: the
// testbed's root namespace cannot reach the hosts' addresses.
func (p *proc) waitListening(ctx context.Context, port int, logPath string) error {
	want := fmt.Sprintf(":%04X", port)
	for {
		if p.exited() {
			return fmt.Errorf("%s exited before listening on port %d: %v%s", p.name, port, p.err, tail(logPath))
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", p.cmd.Process.Pid))
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) > 3 && strings.HasSuffix(f[1], want) && f[3] == "0A" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening on port %d: %w", p.name, port, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// tail is the end of a log file, for error messages.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 2048 {
		_, _ = f.Seek(st.Size()-2048, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	return "\n--- " + path + ":\n" + string(b)
}
