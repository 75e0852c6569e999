package spec

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// DefaultFanout is the number of children per host in a computed tree:
// a chain, every uplink busy with one child (docs/benchmarks.md).
const DefaultFanout = 1

type rawPeer struct {
	Listen      string         `hcl:"listen,optional"`
	Parents     hcl.Expression `hcl:"parents,optional"`
	UploadLimit string         `hcl:"upload_limit,optional"`
	Hosts       hcl.Expression `hcl:"hosts,optional"`
	Fanout      int            `hcl:"fanout,optional"`
	Self        string         `hcl:"self,optional"`
	Pipelined   bool           `hcl:"pipelined,optional"`
	MaxChildren int            `hcl:"max_children,optional"`
	Body        hcl.Body       `hcl:",body"`
	DefRange    hcl.Range      `hcl:",def_range"`
}

func (v *validator) peer(raw *rawPeer) *Peer {
	if raw == nil {
		return nil
	}
	p := &Peer{Listen: DefaultListen, Pipelined: true, Range: raw.DefRange}
	if where := at(raw.Body, "listen"); present(where) {
		if _, err := listenPort(raw.Listen); err != nil {
			v.errorf(where, "Invalid listen address", "The peer listen address must be \"[host]:port\", such as \":7946\": %s.", err)
		} else {
			p.Listen = raw.Listen
		}
	}
	port, _ := listenPort(p.Listen)
	if present(at(raw.Body, "pipelined")) {
		p.Pipelined = raw.Pipelined
	}
	if where := at(raw.Body, "upload_limit"); present(where) {
		r, err := ParseRate(raw.UploadLimit)
		if err != nil {
			v.errorf(where, "Invalid upload_limit", "%s.", err)
		}
		p.UploadLimit = r
	}
	if present(at(raw.Body, "max_children")) && raw.MaxChildren < 0 {
		v.errorf(at(raw.Body, "max_children"), "Invalid max_children", "max_children must be 0 (unlimited) or more, got %d.", raw.MaxChildren)
	} else {
		p.MaxChildren = raw.MaxChildren
	}
	if present(at(raw.Body, "hosts")) {
		v.tree(raw, p, port)
		return p
	}
	for _, at := range []hcl.Range{at(raw.Body, "self"), at(raw.Body, "fanout")} {
		if present(at) {
			v.errorf(at, "Missing hosts", "self and fanout place this host in a computed tree and need the tree's hosts list.")
		}
	}
	p.Parents = v.hostList(raw.Parents, at(raw.Body, "parents"), port, "parents")
	return p
}

// tree validates a computed topology and derives this host's parents.
func (v *validator) tree(raw *rawPeer, p *Peer, port string) {
	if where := at(raw.Body, "parents"); present(where) {
		v.errorf(where, "Conflicting topology", "Set either parents (explicit) or hosts, fanout and self (computed tree), not both.")
	}
	errs := v.errors()
	p.Hosts = v.hostList(raw.Hosts, at(raw.Body, "hosts"), port, "hosts")
	if len(p.Hosts) == 0 {
		if v.errors() == errs {
			v.errorf(at(raw.Body, "hosts"), "Empty hosts", "A computed tree needs at least this host in hosts.")
		}
		return
	}
	p.Fanout = v.atLeastOne(raw.Body, "fanout", raw.Fanout, DefaultFanout,
		"Each host must serve at least one child: fanout must be 1 (a chain) or more, got %d.")
	if !present(at(raw.Body, "self")) {
		v.errorf(raw.DefRange, "Missing self", "A peer block with hosts must say which of them this host is, with self.")
		return
	}
	self, err := hostPort(raw.Self, port)
	if err != nil {
		v.errorf(at(raw.Body, "self"), "Invalid self", "%s.", err)
		return
	}
	p.Self = self
	if !slices.Contains(p.Hosts, self) {
		v.errorf(at(raw.Body, "self"), "Self not in hosts", "This host, %q, is not in the peer hosts list.%s", self, suggest(self, p.Hosts))
		return
	}
	p.Parents, _ = TreeParents(p.Hosts, p.Fanout, self)
}

// hostList decodes a list of "host[:port]" strings, appending port where an
// entry has none, with a diagnostic per bad or repeated entry.
func (v *validator) hostList(expr hcl.Expression, at hcl.Range, port, attr string) []string {
	var out []string
	for _, it := range v.stringList(expr, at, attr) {
		h, err := hostPort(it.value, port)
		switch {
		case err != nil:
			v.errorf(it.at, "Invalid host in "+attr, "%s.", err)
		case slices.Contains(out, h):
			v.errorf(it.at, "Duplicate host in "+attr, "%q is listed twice.", h)
		default:
			out = append(out, h)
		}
	}
	return out
}

// listenPort returns the port of a listen address such as ":7946".
func listenPort(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return port, nil
}

// hostPort normalises a host entry to "host:port", appending port when the
// entry has none (bare IPv6 addresses included).
func hostPort(s, port string) (string, error) {
	if s == "" || strings.ContainsAny(s, " \t/") {
		return "", fmt.Errorf("%q is not a host or host:port", s)
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		if h == "" {
			return "", fmt.Errorf("%q has no host name", s)
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: port must be a number from 1 to 65535", s)
		}
		return net.JoinHostPort(h, p), nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if strings.Contains(h, ":") && net.ParseIP(h) == nil {
		return "", fmt.Errorf("%q is not a host or host:port", s)
	}
	return net.JoinHostPort(h, port), nil
}

// ErrNotInTree is returned by TreeParents for a host missing from the list.
var ErrNotInTree = errors.New("host is not in the tree")

// TreeParents computes a host's parents in the tree laid over hosts: hosts[0]
// is the root and the host at index i > 0 is a child of the host at index
// (i-1)/fanout, so fanout 1 is a chain and fanout 2 a binary tree. The result
// is the chain of ancestors, nearest first, ending with the root: a child
// whose parent died tries its grandparent next, and so on up, before any
// mirror. The root has no parents (nil).
func TreeParents(hosts []string, fanout int, self string) ([]string, error) {
	if fanout < 1 {
		return nil, fmt.Errorf("tree parents: fanout %d: must be 1 or more", fanout)
	}
	i := slices.Index(hosts, self)
	if i < 0 {
		return nil, fmt.Errorf("tree parents: %q: %w", self, ErrNotInTree)
	}
	var parents []string
	for i > 0 {
		i = (i - 1) / fanout
		parents = append(parents, hosts[i])
	}
	return parents, nil
}

// TreeChildren is the inverse of TreeParents for one level: the hosts whose
// nearest parent is self, that is indices i*fanout+1 to i*fanout+fanout. It
// is nil for a leaf, for a host not in hosts and for fanout < 1.
func TreeChildren(hosts []string, fanout int, self string) []string {
	i := slices.Index(hosts, self)
	if i < 0 || fanout < 1 {
		return nil
	}
	// Clamping changes no answer and keeps i*fanout from overflowing.
	fanout = min(fanout, len(hosts))
	first := i*fanout + 1
	if first >= len(hosts) {
		return nil
	}
	return slices.Clone(hosts[first:min(first+fanout, len(hosts))])
}
