package testutil

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// VictimContent is what the file a planted symlink points at holds; a test
// checks it survives.
const VictimContent = "the victim's bytes\n"

// A Plant puts something other than a regular file at a path, as an
// attacker or a confused admin would. Plant returns the file a symlink
// points at ("" if none), whose content must survive.
type Plant struct {
	Name  string
	Plant func(t testing.TB, path string) (victim string)
}

// Plants are the non-regular files prestaged must refuse at its paths.
var Plants = []Plant{
	{"symlink to a file", func(t testing.TB, path string) string {
		victim := filepath.Join(t.TempDir(), "victim")
		Must(t, os.WriteFile(victim, []byte(VictimContent), 0o644))
		Must(t, os.Symlink(victim, path))
		return victim
	}},
	{"symlink to /dev/zero", func(t testing.TB, path string) string {
		Must(t, os.Symlink("/dev/zero", path))
		return ""
	}},
	{"FIFO", func(t testing.TB, path string) string {
		Must(t, unix.Mkfifo(path, 0o644))
		return ""
	}},
	{"directory", func(t testing.TB, path string) string {
		Must(t, os.MkdirAll(filepath.Join(path, "sub"), 0o755))
		return ""
	}},
}

// Must fails the test on err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// StuckClient sends a GET for path to hostport over TCP with a small
// receive buffer and never reads the answer: a child that hung
// mid-download.
func StuckClient(t testing.TB, hostport, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", hostport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: parent\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	return conn
}

// Untouched fails the test if victim, the file a planted symlink pointed
// at, no longer holds VictimContent.
func Untouched(t testing.TB, victim string) {
	t.Helper()
	if victim == "" {
		return
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != VictimContent {
		t.Errorf("the file a symlink pointed at was changed: %q, %v", b, err)
	}
}

// GetWhenFree GETs url until it answers 200, as a child retrying a full
// parent would, and returns the body; it fails the test after patience.
func GetWhenFree(t testing.TB, url string, patience time.Duration) []byte {
	t.Helper()
	start := time.Now()
	for {
		if time.Since(start) > patience {
			t.Fatalf("%s still refused after %s", url, patience)
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		resp.Body.Close()
		time.Sleep(50 * time.Millisecond)
	}
}
