package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Everything the testbed creates is named with this prefix, so that a run
// killed without cleaning up is cleaned up by the next one.
const (
	prefix       = "pst-"
	switchNS     = prefix + "sw"
	mirrorNS     = prefix + "m"
	mirrorPort   = "v-m" // the mirror's port on the bridge
	bridge       = "br0" // inside switchNS: the root namespace stays clean
	tempPattern  = prefix + "testbed-*"
	lockFile     = "/run/lock/" + prefix + "testbed.lock"
	mirrorAddr   = "10.77.0.1"
	subnetPrefix = "/24"
	peerPort     = 7946
)

func hostNS(i int) string   { return fmt.Sprintf("%sh%d", prefix, i) }
func hostAddr(i int) string { return fmt.Sprintf("10.77.0.%d", i+2) }
func hostPeer(i int) string { return fmt.Sprintf("%s:%d", hostAddr(i), peerPort) }

// hostPort is host i's port on the bridge.
func hostPort(i int) string { return fmt.Sprintf("v-h%d", i) }

// run runs one command to completion and returns its error with its output.
func run(ctx context.Context, name string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// lock makes runs of the testbed (go run and go test) take turns: each one
// cleans up what an earlier killed run left, which must not be a live run.
func lock(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("testbed lock: %w", err)
	}
	for {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			return func() { f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("testbed lock %s held by another run: %w", lockFile, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// cleanStale removes what an earlier, killed run left: processes in our
// namespaces (by the pids the kernel lists for them), the namespaces with
// their veths and bridge, our tmpfs mounts and temp dirs. Call it holding
// the lock.
func cleanStale(ctx context.Context) {
	out, _ := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	for line := range strings.Lines(string(out)) {
		ns, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if strings.HasPrefix(ns, prefix) {
			killNamespace(ctx, ns)
			_ = run(ctx, "ip", "netns", "del", ns)
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	for line := range strings.Lines(string(mounts)) {
		f := strings.Fields(line)
		if len(f) > 1 && strings.Contains(f[1], "/"+prefix+"testbed-") {
			_ = syscall.Unmount(f[1], syscall.MNT_DETACH)
		}
	}
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPattern))
	for _, d := range old {
		_ = os.RemoveAll(d)
	}
}

// killNamespace kills every process in namespace ns: only ours live there.
func killNamespace(ctx context.Context, ns string) {
	out, _ := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// network is the switch namespace with its bridge, and one namespace per
// host and for the mirror, each on a veth pair capped by tbf both ways.
type network struct {
	rate int64  // bits per second
	mtu  int    // of every link; 0: the kernel's default (1500)
	cc   string // TCP congestion control of the hosts and the mirror; "": inherited
	nss  []string
}

func (n *network) setup(ctx context.Context, hosts int) error {
	if err := n.addNS(ctx, switchNS); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"-n", switchNS, "link", "add", "name", bridge, "type", "bridge"},
		{"-n", switchNS, "link", "set", bridge, "up"},
	} {
		if err := run(ctx, "ip", args...); err != nil {
			return err
		}
	}
	if err := bridgeWithoutNetfilter(ctx); err != nil {
		return err
	}
	if err := n.attach(ctx, mirrorNS, mirrorPort, mirrorAddr); err != nil {
		return err
	}
	for i := range hosts {
		if err := n.attach(ctx, hostNS(i), hostPort(i), hostAddr(i)); err != nil {
			return err
		}
	}
	return nil
}

// bridgeWithoutNetfilter keeps frames crossing the switch out of iptables.
// Once br_netfilter is loaded (Docker and many firewalls load it), every new
// namespace passes bridged IPv4 through the netfilter hooks and conntrack.
// A farm's switch does not; here that cost lands on the same cores as the
// hosts: about 5% of the CPU of a 32-host swarm run (perf). Without the
// module there is nothing to turn off.
func bridgeWithoutNetfilter(ctx context.Context) error {
	const dir = "/proc/sys/net/bridge"
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	args := []string{"netns", "exec", switchNS, "sysctl", "-q", "-w"}
	for _, k := range []string{"iptables", "ip6tables", "arptables"} {
		args = append(args, "net.bridge.bridge-nf-call-"+k+"=0")
	}
	return run(ctx, "ip", args...)
}

func (n *network) addNS(ctx context.Context, ns string) error {
	if err := run(ctx, "ip", "netns", "add", ns); err != nil {
		return err
	}
	n.nss = append(n.nss, ns)
	return run(ctx, "ip", "-n", ns, "link", "set", "lo", "up")
}

// attach creates namespace ns linked to the bridge by a veth pair: "eth0"
// in ns, port on the bridge. Both ends are created inside namespaces.
func (n *network) attach(ctx context.Context, ns, port, addr string) error {
	if err := n.addNS(ctx, ns); err != nil {
		return err
	}
	pair := []string{"ip", "-n", switchNS, "link", "add", "name", port}
	peer := []string{"peer", "name", "eth0"}
	if n.mtu > 0 {
		mtu := strconv.Itoa(n.mtu)
		pair, peer = append(pair, "mtu", mtu), append(peer, "mtu", mtu)
	}
	cmds := [][]string{
		append(append(append(pair, "type", "veth"), peer...), "netns", ns),
		{"ip", "-n", switchNS, "link", "set", port, "master", bridge},
		{"ip", "-n", ns, "addr", "add", addr + subnetPrefix, "dev", "eth0"},
		n.tbf(ns, "eth0", n.rate),     // the host's egress
		n.tbf(switchNS, port, n.rate), // the bridge's egress to the host: its ingress
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", switchNS, "link", "set", port, "up"},
	}
	if n.cc != "" {
		cmds = append(cmds, []string{"ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.tcp_congestion_control=" + n.cc})
	}
	for _, c := range cmds {
		if err := run(ctx, c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// tbf caps dev at the link rate. The bucket holds 10 ms of traffic but at
// least one 64 KiB GSO packet as tbf counts it, with the headers of each
// segment: about 68 KB. A smaller bucket makes tbf cut every GSO packet
// into MTU-sized ones: at 50 Mbit softirq took 40-49% of the CPU and the
// queue overflowed (a third of a host's packets dropped). The queue may
// delay a packet by 50 ms.
func (n *network) tbf(ns, dev string, rate int64) []string {
	burst := max(rate/8/100, 128<<10)
	return []string{"tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "tbf",
		"rate", fmt.Sprintf("%dbit", rate), "burst", strconv.FormatInt(burst, 10), "latency", "50ms"}
}

// setRate caps both directions of host i's link at rate.
func (n *network) setRate(ctx context.Context, i int, rate int64) error {
	for _, c := range [][]string{n.tbf(hostNS(i), "eth0", rate), n.tbf(switchNS, hostPort(i), rate)} {
		if err := run(ctx, c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// teardown kills what runs in the namespaces and deletes them; the veths
// and the bridge go with them.
func (n *network) teardown(ctx context.Context) {
	for i := len(n.nss) - 1; i >= 0; i-- {
		killNamespace(ctx, n.nss[i])
		_ = run(ctx, "ip", "netns", "del", n.nss[i])
	}
	n.nss = nil
}
