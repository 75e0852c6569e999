package torrent

import (
	"testing"

	"github.com/anacrolix/torrent"
	pp "github.com/anacrolix/torrent/peer_protocol"
)

// TestPeerRequestsCapped: whatever reqq a peer announces, or none, this
// host keeps at most MaxPeerRequests requests outstanding there; a peer
// that asks for fewer gets fewer.
func TestPeerRequestsCapped(t *testing.T) {
	const maxPeerRequests = 8
	cc := torrent.NewDefaultClientConfig()
	capPeerRequests(cc, maxPeerRequests)
	for _, tt := range []struct{ announced, want int }{
		{1024, maxPeerRequests}, // another anacrolix
		{250, maxPeerRequests},
		{0, maxPeerRequests}, // none announced: anacrolix would assume 250
		{maxPeerRequests, maxPeerRequests},
		{2, 2},
	} {
		d := pp.ExtendedHandshakeMessage{Reqq: tt.announced}
		cc.Callbacks.ReadExtendedHandshake(nil, &d)
		if d.Reqq != tt.want {
			t.Errorf("reqq %d announced: kept %d, want %d", tt.announced, d.Reqq, tt.want)
		}
	}
	pc := &torrent.PeerConn{PeerMaxRequests: 250}
	for _, cb := range cc.Callbacks.PeerConnAdded {
		cb(pc)
	}
	if pc.PeerMaxRequests != maxPeerRequests {
		t.Errorf("new connection: %d requests allowed before the extended handshake, want %d", pc.PeerMaxRequests, maxPeerRequests)
	}
}
