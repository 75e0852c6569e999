package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/internal/testutil"
)

func TestStateRoundTrip(t *testing.T) {
	_, d1 := testutil.Image(t, 10, 20)
	_, d2 := testutil.Image(t, 20, 21)
	when := time.Date(2026, 11, 24, 20, 38, 40, 123, time.UTC)
	want := &store.State{Images: map[string]store.Record{
		"a": {Name: "a", Digest: d1, Install: "/x/a.img", File: store.FileID{Size: 10, MTime: when, Inode: 42}, Installed: when},
		"b": {Name: "b", Digest: d2, Install: "/x/b.img", File: store.FileID{Size: 20, MTime: when, Inode: 43},
			Installed: when, Trust: "cern", ID: "id-1", Version: "3"},
	}}
	s := openStore(t)
	empty, err := s.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&store.State{Images: map[string]store.Record{}}, empty, digestCmp); diff != "" {
		t.Errorf("state of a new store (-want +got):\n%s", diff)
	}
	if err := s.SaveState(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, digestCmp); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if r, ok := got.Owns("/x/b.img"); !ok || r.Name != "b" {
		t.Errorf("Owns(/x/b.img) = %v, %t", r.Name, ok)
	}
	if _, ok := got.Owns("/x/c.img"); ok {
		t.Error("Owns(/x/c.img) = true")
	}
}

var digestCmp = cmp.Comparer(func(a, b digest.Digest) bool { return a == b })

func TestStateCorrupt(t *testing.T) {
	s := openStore(t)
	if err := os.WriteFile(filepath.Join(s.Root(), "state.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadState(); !testutil.ErrorContains(err, "state.json") {
		t.Errorf("LoadState of a corrupt file: %v, want an error naming state.json", err)
	}
}

func TestLock(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		wait    time.Duration
		release time.Duration // after which the holder lets go; 0: never
		wantErr error
	}{
		{"free", 0, 0, nil},
		{"held, no wait", 0, -1, store.ErrLocked},
		{"held, wait longer than the holder", 30 * time.Second, 100 * time.Millisecond, nil},
		{"held, wait too short", 150 * time.Millisecond, -1, store.ErrLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			if tt.release != 0 {
				unlock, err := s.Lock(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer unlock()
				if tt.release > 0 {
					time.AfterFunc(tt.release, unlock)
				}
			}
			unlock, err := s.Lock(ctx, tt.wait)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Lock: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !testutil.ErrorContains(err, "--wait") {
					t.Errorf("lock message does not say how to wait: %v", err)
				}
				return
			}
			unlock()
		})
	}
}
