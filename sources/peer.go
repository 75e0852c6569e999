package sources

import (
	"errors"
	"time"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/peer"
	"github.com/prestaged/prestaged/spec"
)

var errNoParents = errors.New("this host has no parents (it is a root of the tree)")

func parentNames(x *Set, _ *spec.Image, _ spec.Source) ([]string, error) {
	if x.spec.Peer == nil || len(x.spec.Peer.Parents) == 0 {
		return nil, errNoParents
	}
	out := make([]string, len(x.spec.Peer.Parents))
	for i, p := range x.spec.Peer.Parents {
		out[i] = "parent " + p
	}
	return out, nil
}

// parentSources makes one source per parent, nearest first, so the engine
// counts bytes per parent and can name one that sent bad bytes, and
// Fallback moves from one parent to the next. Each has the stall watch every
// source has, which also judges a parent that answers "not yet"; no retry,
// since a parent that is busy or down is left for the next one at once.
// In a computed chain each parent knows the next one and the chain's tail,
// so that a slow parent or this host's own slow link is left while it
// streams (docs/protocol.md, "Slow hosts").
func parentSources(x *Set, img *spec.Image, src spec.Source) ([]fetchers.Named, error) {
	names, err := parentNames(x, img, src)
	if err != nil {
		return nil, err
	}
	s := x.spec
	out := make([]fetchers.Named, 0, len(names))
	for i, p := range s.Peer.Parents {
		// A parent that has not started yet is polled often: each level of the
		// tree would otherwise add a whole second to the rollout. serve sends
		// no Retry-After then; another parent's is honoured within the stall
		// budget.
		opts := peer.Options{CompleteOnly: !s.Peer.Pipelined, PollInterval: 100 * time.Millisecond,
			OnEvent: func(parent, msg string) { x.log.Info(msg, "image", img.Name, "event", "info", "parent", parent) }}
		if chain(s.Peer) {
			opts.Tail = s.Peer.Hosts[len(s.Peer.Hosts)-1]
			if i+1 < len(s.Peer.Parents) {
				opts.Ancestor = s.Peer.Parents[i+1]
			}
		}
		f := peer.NewParent(p, opts)
		out = append(out, fetchers.Named{Name: names[i], Fetcher: fetchers.WithStallTimeout(f, s.StallTimeout)})
	}
	return out, nil
}

// chain says whether this host is in a computed chain, and not its tail.
// Only there does every host on the path receive at one rate, so that a
// difference in growth measures a slow link; in a tree each uplink is
// shared by fanout children by design.
func chain(p *spec.Peer) bool {
	return len(p.Hosts) > 1 && p.Fanout == 1 && p.Hosts[len(p.Hosts)-1] != p.Self
}
