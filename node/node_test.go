package node

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/prestaged/prestaged/spec"
)

// syncBuffer is a log destination safe to read while Run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Run serves until its context ends and then returns nil; what it serves is
// the spec's.
func TestRun(t *testing.T) {
	s := &spec.Spec{Store: t.TempDir(), StallTimeout: spec.DefaultStallTimeout}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{SpecPath: "spec.hcl", Load: func(string) (*spec.Spec, error) { return s, nil },
			Listen: "127.0.0.1:0", ShutdownTimeout: time.Second, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	addr := regexp.MustCompile(`msg=serving listen=(127\.0\.0\.1:\d+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Run did not start serving:\n%s", logs.String())
		}
		m = addr.FindStringSubmatch(logs.String())
	}
	resp, err := http.Get("http://" + m[1] + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status: %s, %v", resp.Status, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after its context ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still running 10 s after its context ended")
	}
}
