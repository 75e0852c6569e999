package mirror

import (
	"net"
	"net/http"
	"time"

	"github.com/prestaged/prestaged/fetchers"
)

// sharedClient serves every Mirror made without WithClient, so mirrors on
// the same host share idle connections.
var sharedClient = &http.Client{Transport: NewTransport()}

// dialTimeout bounds a connection attempt to a mirror. The kernel sends a
// SYN again after 1 s and 3 s, and a new attempt starts that over, so a
// lost handshake costs seconds instead of the kernel's whole backoff: a
// swarm host reading a piece from the mirror over a full link (N=32, 10
// Mbit) lost 20 of its 86 reads to "i/o timeout" after 30 s, the mirror's
// own full link dropping its SYN-ACKs and ARP replies, and some pieces
// came in 60-85 s late. With 5 s a failed read was tried again within
// seconds; the runs took 1.49x, 1.50x and 1.56x against 1.47-1.55x without
// (five runs the same morning), inside their spread. The retry wrapper
// (fetchers.WithRetry) tries a mirror again; a remote mirror's SYN-ACK
// still has 5 s, or the spec's stall_timeout when that is shorter.
const dialTimeout = 5 * time.Second

// NewTransport returns the transport tuned for image downloads, for callers
// that need their own client (a private CA, a proxy) but the same tuning.
//
// It has no overall timeout, only bounds on the steps before the body flows:
// the body of a 10 GB image takes minutes, and a body that stops flowing is
// caught by fetchers.WithStallTimeout.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	var protocols http.Protocols
	// One long stream per image: HTTP/1.1 gives it a TCP connection of its
	// own, without HTTP/2's per-stream flow-control window capping a fat
	// link's throughput.
	protocols.SetHTTP1(true)
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           fetchers.BoundedDial(dialer),
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   8,
		// Compression would make Go decode transparently and break Range
		// offsets; images are fetched as they are stored.
		DisableCompression: true,
		Protocols:          &protocols,
		ReadBufferSize:     64 << 10,
	}
}
