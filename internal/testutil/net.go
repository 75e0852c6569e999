package testutil

import (
	"net"
	"strconv"
	"testing"
)

// FreePort is a loopback TCP port no one listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FreeAddr is FreePort as "127.0.0.1:port".
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}

// Aria2Quiet are the aria2c options the tests use: no DHT, PEX or local
// peer discovery (nothing but the peers a test names), no IPv6, quiet.
var Aria2Quiet = []string{
	"--enable-dht=false", "--enable-dht6=false", "--enable-peer-exchange=false",
	"--bt-enable-lpd=false", "--disable-ipv6=true", "--file-allocation=none",
	"--console-log-level=warn", "--summary-interval=0", "--auto-file-renaming=false",
}
