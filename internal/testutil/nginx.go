package testutil

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Nginx is an nginx serving a directory for one test.
type Nginx struct {
	// URL is "http://127.0.0.1:<port>/", the docRoot's URL.
	URL string
	dir string
}

// StartNginx serves docRoot with a real nginx on a free 127.0.0.1 port until
// the test ends, and returns its base URL (with a trailing slash).
func StartNginx(t testing.TB, docRoot string) (baseURL string) {
	t.Helper()
	return RunNginx(t, docRoot).URL
}

// RunNginx is StartNginx that also gives access to nginx's access log.
func RunNginx(t testing.TB, docRoot string) *Nginx {
	t.Helper()
	bin := Need(t, "nginx")
	root, err := filepath.Abs(docRoot)
	if err != nil {
		t.Fatalf("nginx: doc root %s: %v", docRoot, err)
	}
	var lastErr error
	// The free port may be taken between probing and nginx binding it.
	for range 3 {
		n, err := tryNginx(t, bin, root)
		if err == nil {
			return n
		}
		lastErr = err
	}
	t.Fatalf("nginx: %v", lastErr)
	return nil
}

func tryNginx(t testing.TB, bin, root string) (*Nginx, error) {
	dir := t.TempDir()
	url, stop, err := LaunchNginx(bin, dir, root)
	if err != nil {
		return nil, err
	}
	t.Cleanup(stop)
	return &Nginx{URL: url, dir: dir}, nil
}

// probePath is what waitAnswering asks for; Requests leaves it out.
const probePath = "/.testutil-nginx-probe"

// waitAnswering polls url until nginx answers anything, or exits.
func waitAnswering(url string, exited <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return fmt.Errorf("exited before answering on %s", url)
		default:
		}
		if resp, err := c.Get(url + probePath[1:]); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer on %s", url)
}

// stopNginx asks the master for a fast shutdown (it stops its workers), and
// kills the process group, ours alone, if that takes too long.
func stopNginx(cmd *exec.Cmd, exited <-chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// Requests returns the access log once it has at least want lines: nginx
// logs a request after sending it, possibly just after the client has read
// the last byte.
func (n *Nginx) Requests(t testing.TB, want int) []NginxRequest {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		reqs, err := readNginxLog(filepath.Join(n.dir, "access.log"))
		if err != nil {
			t.Fatalf("nginx access log: %v", err)
		}
		if len(reqs) >= want || time.Now().After(deadline) {
			return reqs
		}
	}
}
