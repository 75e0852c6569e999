package main

import (
	"fmt"
	"time"

	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/fetchers/peer"
	"github.com/prestaged/prestaged/spec"
)

func init() { sourceMakers[spec.SourceParents] = parentSources }

// parentSources makes one source per parent, nearest first, so the engine
// counts bytes per parent and can name one that sent bad bytes.
func parentSources(s *spec.Spec, _ *spec.Image, _ spec.Source) ([]fetchers.Named, error) {
	if s.Peer == nil || len(s.Peer.Parents) == 0 {
		return nil, fmt.Errorf("this host has no parents (it is a root of the tree)")
	}
	out := make([]fetchers.Named, 0, len(s.Peer.Parents))
	for _, p := range s.Peer.Parents {
		// A parent that has not started yet is polled often: each level of the
		// tree would otherwise add a whole second to the rollout. serve sends
		// no Retry-After then; another parent's is honoured within the stall
		// budget.
		f := peer.NewParents([]string{p}, peer.Options{StallTimeout: s.StallTimeout, CompleteOnly: !s.Peer.Pipelined,
			PollInterval: 100 * time.Millisecond})
		out = append(out, fetchers.Named{Name: "parent " + p, Fetcher: f})
	}
	return out, nil
}
