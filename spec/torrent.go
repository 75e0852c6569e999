package spec

import (
	"github.com/hashicorp/hcl/v2"
)

// DefaultTorrentListen is where the BitTorrent client listens by default.
const DefaultTorrentListen = ":6881"

type rawTorrent struct {
	Tracker       string    `hcl:"tracker,optional"`
	Listen        string    `hcl:"listen,optional"`
	PeersFromTree bool      `hcl:"peers_from_tree,optional"`
	WebSeed       *bool     `hcl:"web_seed,optional"`
	Body          hcl.Body  `hcl:",body"`
	DefRange      hcl.Range `hcl:",def_range"`
}

// trackerSchemes are the announce protocols BitTorrent trackers speak.
var trackerSchemes = []string{"http", "https", "udp"}

func (v *validator) torrent(raw *rawTorrent, peer *Peer) *Torrent {
	if raw == nil {
		return nil
	}
	t := &Torrent{Listen: DefaultTorrentListen, PeersFromTree: raw.PeersFromTree, WebSeed: true, Range: raw.DefRange}
	if raw.WebSeed != nil {
		t.WebSeed = *raw.WebSeed
	}
	t.Tracker = v.locationAt(at(raw.Body, "tracker"), raw.Tracker, trackerSchemes, false, "Invalid tracker URL", "The torrent tracker")
	if where := at(raw.Body, "listen"); present(where) {
		if _, err := listenPort(raw.Listen); err != nil {
			v.errorf(where, "Invalid listen address", "The torrent listen address must be \"[host]:port\", such as %q: %s.", DefaultTorrentListen, err)
		} else {
			t.Listen = raw.Listen
		}
	}
	if raw.PeersFromTree && peer == nil {
		v.errorf(at(raw.Body, "peers_from_tree"), "No tree to take peers from", "peers_from_tree needs a peer block naming this host's parents or the tree's hosts.")
	}
	return t
}
