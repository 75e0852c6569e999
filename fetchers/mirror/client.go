package mirror

import (
	"net"
	"net/http"
	"time"
)

// sharedClient serves every Mirror made without WithClient, so mirrors on
// the same host share idle connections.
var sharedClient = &http.Client{Transport: NewTransport()}

// NewTransport returns the transport tuned for image downloads, for callers
// that need their own client (a private CA, a proxy) but the same tuning.
//
// It has no overall timeout, only bounds on the steps before the body flows:
// the body of a 10 GB image takes minutes, and a body that stops flowing is
// caught by fetchers.WithStallTimeout.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	var protocols http.Protocols
	// One long stream per image: HTTP/1.1 gives it a TCP connection of its
	// own, without HTTP/2's per-stream flow-control window capping a fat
	// link's throughput.
	protocols.SetHTTP1(true)
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
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
