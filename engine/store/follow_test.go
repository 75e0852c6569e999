package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/internal/testutil"
	"golang.org/x/sys/unix"
)

// followWriter plays `prestaged apply`: it holds an exclusive flock on the
// staging file while it appends to it.
type followWriter struct {
	t *testing.T
	s *Store
	d digest.Digest
	f *os.File
}

func newFollowWriter(t *testing.T, s *Store, d digest.Digest) *followWriter {
	t.Helper()
	f, err := os.OpenFile(s.StagingPath(d), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return &followWriter{t: t, s: s, d: d, f: f}
}

func (w *followWriter) write(b []byte) {
	if _, err := w.f.Write(b); err != nil {
		w.t.Error(err)
	}
}

func (w *followWriter) commit() {
	if err := os.Rename(w.s.StagingPath(w.d), w.s.BlobPath(w.d)); err != nil {
		w.t.Error(err)
	}
	w.f.Close()
}

func (w *followWriter) kill() { w.f.Close() }

func (w *followWriter) remove() {
	os.Remove(w.s.StagingPath(w.d))
	w.f.Close()
}

func TestFollowGrowing(t *testing.T) {
	const size = 3<<20 + 17
	content, d := testutil.Image(t, size, 1)
	half := size / 2
	tests := []struct {
		name    string
		finish  func(w *followWriter) // after the reader caught up with the first half
		want    int                   // bytes read
		wantErr error
	}{
		{"renamed to blob", func(w *followWriter) {
			for b := content[half:]; len(b) > 0; b = b[min(len(b), 100_000):] {
				w.write(b[:min(len(b), 100_000)])
			}
			w.commit()
		}, size, nil},
		{"rest lands then renamed", func(w *followWriter) { w.write(content[half:]); w.commit() }, size, nil},
		{"writer killed", func(w *followWriter) { w.kill() }, half, ErrFetchAbandoned},
		{"writer killed after more bytes", func(w *followWriter) { w.write(content[half : half+1000]); w.kill() }, half + 1000, ErrFetchAbandoned},
		{"staging removed", func(w *followWriter) { w.remove() }, half, ErrFetchAbandoned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tempStore(t)
			w := newFollowWriter(t, s, d)
			w.write(content[:half])
			fl, err := s.Follow(context.Background(), d, size, 0, FollowOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer fl.Close()
			got := make([]byte, half)
			if _, err := io.ReadFull(fl, got); err != nil {
				t.Fatal(err)
			}
			go tt.finish(w)
			rest, err := io.ReadAll(fl)
			got = append(got, rest...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if len(got) != tt.want || !bytes.Equal(got, content[:tt.want]) {
				t.Fatalf("read %d bytes (equal to content: %v), want %d", len(got), bytes.Equal(got, content[:len(got)]), tt.want)
			}
		})
	}
}

// tempStore is a store in a directory of its own.
func tempStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	testutil.Must(t, err)
	return s
}

func TestFollowOpen(t *testing.T) {
	content, d := testutil.Image(t, 1<<20, 1)
	tests := []struct {
		name    string
		setup   func(t *testing.T, s *Store)
		off     int64
		opts    FollowOptions
		want    []byte
		wantErr error
	}{
		{"absent", func(*testing.T, *Store) {}, 0, FollowOptions{}, nil, ErrAbsent},
		{"blob from offset", followBlob(content), 1000, FollowOptions{}, content[1000:], nil},
		{"blob complete-only", followBlob(content), 0, FollowOptions{CompleteOnly: true}, content, nil},
		{"blob at end", followBlob(content), int64(len(content)), FollowOptions{}, []byte{}, nil},
		{"staging complete-only", followStaging(content[:10]), 0, FollowOptions{CompleteOnly: true}, nil, ErrIncomplete},
		{"wrong size blob", followBlob(content[:10]), 0, FollowOptions{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tempStore(t)
			tt.setup(t, s)
			fl, err := s.Follow(context.Background(), d, int64(len(content)), tt.off, tt.opts)
			if tt.want == nil {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("Follow error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer fl.Close()
			got, err := io.ReadAll(fl)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("read %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func followBlob(b []byte) func(*testing.T, *Store) {
	return func(t *testing.T, s *Store) {
		_, d := testutil.Image(t, 1<<20, 1)
		if err := os.WriteFile(s.BlobPath(d), b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
}

func followStaging(b []byte) func(*testing.T, *Store) {
	return func(t *testing.T, s *Store) {
		_, d := testutil.Image(t, 1<<20, 1)
		if err := os.WriteFile(s.StagingPath(d), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFollowProgressRecord(t *testing.T) {
	const size = 1 << 20
	content, d := testutil.Image(t, size, 1)
	s := tempStore(t)
	w := newFollowWriter(t, s, d)
	w.write(content) // every byte is in the file, but only 1000 are complete
	setProgress := func(n int) {
		if err := os.WriteFile(s.ProgressPath(d), []byte(strconv.Itoa(n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setProgress(1000)
	fl, err := s.Follow(context.Background(), d, size, 0, FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	got := make([]byte, size)
	if n, err := fl.Read(got); n != 1000 || err != nil {
		t.Fatalf("Read = %d, %v; want the 1000-byte complete prefix", n, err)
	}
	go func() { setProgress(size / 2); w.commit() }()
	if _, err := io.ReadFull(fl, got[1000:]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}
}

func TestHave(t *testing.T) {
	content, d := testutil.Image(t, 1<<20, 1)
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store)
		want  Holding
	}{
		{"absent", func(*testing.T, *Store) {}, Holding{Presence: Absent}},
		{"complete", followBlob(content), Holding{Presence: Complete, Bytes: 1 << 20}},
		{"partial without writer", followStaging(content[:10]), Holding{Presence: Partial, Bytes: 10}},
		{"partial with writer", func(t *testing.T, s *Store) {
			w := newFollowWriter(t, s, d)
			w.write(content[:20])
			t.Cleanup(w.kill)
		}, Holding{Presence: Partial, Bytes: 20, Writing: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tempStore(t)
			tt.setup(t, s)
			got, err := s.Have(d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Have (-want +got):\n%s", diff)
			}
		})
	}
}
