package packaging

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestSocketActivation starts `prestaged serve` the way prestaged.socket
// does: systemd-socket-activate holds the listening socket and passes it
// with LISTEN_FDS; serve must answer on it.
func TestSocketActivation(t *testing.T) {
	activate := testutil.Need(t, "systemd-socket-activate")
	b := artifacts.Get(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.hcl")
	// peer.listen names another port: serve must use the socket it is given.
	src := "store = \"" + filepath.Join(dir, "store") + "\"\npeer {\n  listen = \"127.0.0.1:1\"\n}\n"
	if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testutil.FreeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, activate, "-l", addr, b.binary, "serve", spec)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()

	body := getStatus(ctx, t, "http://"+addr+"/v1/status")
	if len(body) == 0 {
		t.Error("GET /v1/status: empty body")
	}
}

// getStatus polls url until serve answers 200 (the socket accepts at once;
// serve may still be starting) or ctx ends.
func getStatus(ctx context.Context, t *testing.T, url string) []byte {
	t.Helper()
	var last error
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return body
			}
			t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: no answer: %v", url, last)
	return nil
}
