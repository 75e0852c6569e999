package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/prestaged/prestaged/spec"
)

// hostPaths are where one host keeps things: its store and installed copy
// on the tmpfs, its spec and logs on disk.
type hostPaths struct {
	store, install  string
	dir             string // spec and logs
	spec, serveLog  string
	applyLog, stage string // stage: the staging file of the image
	blob            string
}

func (tb *Testbed) paths(i int) hostPaths {
	name := fmt.Sprintf("h%d", i)
	p := hostPaths{
		store:   filepath.Join(tb.fs, "hosts", name, "store"),
		install: filepath.Join(tb.fs, "hosts", name, "install", imageName),
		dir:     filepath.Join(tb.hostsDir(), name),
	}
	p.spec = filepath.Join(p.dir, "spec.hcl")
	p.serveLog = filepath.Join(p.dir, "serve.log")
	p.applyLog = filepath.Join(p.dir, "apply.log")
	p.stage = filepath.Join(p.store, "staging", "sha256", tb.pub.digest+".part")
	p.blob = filepath.Join(p.store, "blobs", "sha256", tb.pub.digest)
	return p
}

// hostsDir holds every host's spec and logs, one directory each; with
// Config.Logs, one per strategy and scenario other than Together.
func (tb *Testbed) hostsDir() string {
	if tb.cfg.Logs != "" {
		name := string(tb.strategy)
		if tb.scenario != Together {
			name += "@" + tb.scenario.String()
		}
		return filepath.Join(tb.cfg.Logs, name)
	}
	return filepath.Join(tb.dir, "hosts")
}

// resetHosts removes every host's store, installed copy, spec and logs,
// and makes the hosts strategy s's (whose logs go to their own directory
// with Config.Logs).
func (tb *Testbed) resetHosts(s Strategy) error {
	tb.strategy = s
	for _, d := range []string{filepath.Join(tb.fs, "hosts"), tb.hostsDir()} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}

// writeSpec writes host i's spec for strategy s: the mirror, the image and,
// for the tree strategies, a peer block computing this host's place from
// the list of every host (the same list on every host).
func (tb *Testbed) writeSpec(i int, s Strategy) error {
	p := tb.paths(i)
	for _, d := range []string{p.store, filepath.Dir(p.install), p.dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "store         = %q\nstall_timeout = %q\n\n", p.store, tb.cfg.StallTimeout.String())
	fmt.Fprintf(&b, "mirror \"m\" {\n  url = \"http://%s/\"\n}\n\n", mirrorAddr)
	var sources []string
	switch {
	case s == Default:
		// What a farm gets when it names its hosts and nothing more.
		fmt.Fprintf(&b, "peer {\n  listen = %q\n  hosts  = [%s]\n  self   = %q\n}\n\n", hostPeer(i), tb.hostPeers(), hostPeer(i))
		sources = append(sources, `"parents"`)
	case s.tree():
		fmt.Fprintf(&b, "peer {\n  listen    = %q\n  hosts     = [%s]\n  fanout    = %d\n  self      = %q\n  pipelined = %t\n}\n\n",
			hostPeer(i), tb.hostPeers(), s.fanout(), hostPeer(i), s.pipelined())
		sources = append(sources, `"parents"`)
	case s.peered():
		// No parents: serve only seeds the swarm.
		fmt.Fprintf(&b, "peer {\n  listen = %q\n}\n\n", hostPeer(i))
	}
	torrentURL := ""
	if s.swarm() {
		fmt.Fprintf(&b, "torrent {\n  tracker         = %q\n  listen          = \"%s:%d\"\n  peers_from_tree = %t\n}\n\n",
			trackerURL(), hostAddr(i), btPort, s.tree())
		sources = append(sources, `"torrent"`)
		torrentURL = fmt.Sprintf("  torrent_url = \"http://%s/%s\"\n", mirrorAddr, torrentName)
	}
	sources = append(sources, `"mirror.m"`)
	if s == TreeTorrent && i == 0 {
		// The root has no parent, and a swarm-fed root lands pieces out of
		// order: its complete prefix, all its children can stream, would
		// stay short. It streams the mirror in order; the swarm is its
		// fallback.
		sources = []string{`"mirror.m"`, `"torrent"`}
	}
	if tb.pub.format != spec.FormatRaw {
		torrentURL += fmt.Sprintf("  format         = %q\n  install_format = \"raw\"\n", tb.pub.format)
	}
	fmt.Fprintf(&b, "image \"vm\" {\n  sha256  = %q\n  size    = %d\n  path    = %q\n  install = %q\n  sources = [%s]\n%s}\n",
		tb.pub.digest, tb.pub.size, tb.pub.name, p.install, strings.Join(sources, ", "), torrentURL)
	return os.WriteFile(p.spec, []byte(b.String()), 0o644)
}

// hostPeers is the peer list every host's spec names, in HCL.
func (tb *Testbed) hostPeers() string {
	hosts := make([]string, tb.cfg.Hosts)
	for j := range hosts {
		hosts[j] = fmt.Sprintf("%q", hostPeer(j))
	}
	return strings.Join(hosts, ", ")
}
