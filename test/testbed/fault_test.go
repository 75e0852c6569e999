package main

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// Fault tests (issue 3 item 7): real serve and apply processes in the
// testbed, with one parent failing in each way. Assertions are about which
// sources sent bytes and what was installed, never about time.

func parentName(i int) string { return "parent " + hostPeer(i) }

// startAll starts serve on the hosts in serves, then apply on the hosts in
// applies, each once the one before holds its staging file, and fails the
// test on error. A child that asked a host before the host's own apply
// staged the image would have serve stage it on demand, and the apply's
// report would then name no source.
func startAll(ctx context.Context, t *testing.T, r *Run, serves, applies []int) {
	t.Helper()
	for _, i := range serves {
		if err := r.StartServe(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	r.Begin()
	for _, i := range applies {
		if err := r.StartApply(i); err != nil {
			t.Fatal(err)
		}
		for r.held(i) == nil && !r.applies[i].exited() && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// waitVerified waits for host i's apply and fails the test unless it
// installed the image's bytes.
func waitVerified(ctx context.Context, t *testing.T, r *Run, i int) HostResult {
	t.Helper()
	h := r.WaitApply(ctx, i)
	if !h.Verified {
		t.Fatalf("host %s: %s", h.Host, h.Error)
	}
	t.Logf("host %s: %.1fs, bytes by source %v, resumed %d, bad sources %v", h.Host, h.Seconds, h.BytesBySource, h.Resumed, h.BadSources)
	return h
}

func total(h HostResult) int64 {
	var n int64
	for _, b := range h.BytesBySource {
		n += b
	}
	return n
}

// TestFaultParentKilled: in a chain h0 -> h1 -> h2 -> h3, h1 dies (serve
// and apply killed) while h2 streams from it. h2 resumes from its nearest
// living ancestor (or the mirror) where it stopped, and fetches the image
// once in all; h1, started again, resumes from its own staged bytes.
func TestFaultParentKilled(t *testing.T) {
	const size = 32 << 20
	ctx, tb := newTestbed(t, 4, size, "50Mbit", 5*time.Second)
	r := prepare(t, tb, Chain)
	startAll(ctx, t, r, []int{0, 1, 2, 3}, []int{0, 1, 2, 3})
	for r.Staged(2) < size/4 {
		if ctx.Err() != nil || r.applies[2].exited() {
			t.Fatalf("host 2 never staged a quarter of the image: %d bytes", r.Staged(2))
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Kill(1)
	killedAt := r.Staged(2)
	t.Logf("killed h1 (%s) when h2 had %d bytes", hostAddr(1), killedAt)
	for _, i := range []int{0, 2, 3} {
		h := waitVerified(ctx, t, r, i)
		if n := total(h); n > size+size/10 {
			t.Errorf("host %s fetched %d bytes for a %d-byte image: it started again", h.Host, n, size)
		}
		if i != 2 {
			continue
		}
		if h.BytesBySource[parentName(1)] == 0 {
			t.Errorf("h2 got nothing from h1 before it died: %v", h.BytesBySource)
		}
		if len(h.BytesBySource) < 2 {
			t.Errorf("h2 finished without another source after h1 died: %v", h.BytesBySource)
		}
	}
	// h1 comes back: its apply resumes from what it had staged.
	if err := r.StartApply(1); err != nil {
		t.Fatal(err)
	}
	h := waitVerified(ctx, t, r, 1)
	if h.Resumed == 0 || total(h) > size-h.Resumed+size/10 {
		t.Errorf("h1 restarted: resumed %d bytes, fetched %v: want a resume", h.Resumed, h.BytesBySource)
	}
}

// TestFaultParentAbsent: h1 of a binary tree of 6 runs apply but no serve.
// Its children h3 and h4 find nothing listening and go on at once to the
// root; the stall timeout is longer than the test may run, so waiting for
// it would fail the test.
func TestFaultParentAbsent(t *testing.T) {
	ctx, tb := newTestbed(t, 6, 32<<20, "200Mbit", 10*time.Minute)
	r := prepare(t, tb, Tree)
	startAll(ctx, t, r, []int{0, 2, 3, 4, 5}, []int{0, 1, 2, 3, 4, 5})
	for i := range 6 {
		h := waitVerified(ctx, t, r, i)
		if h.BytesBySource[parentName(1)] != 0 {
			t.Errorf("host %s got bytes from h1, which serves nothing: %v", h.Host, h.BytesBySource)
		}
		if (i == 3 || i == 4) && h.BytesBySource[parentName(0)] == 0 {
			t.Errorf("host %s did not fall back to the root: %v", h.Host, h.BytesBySource)
		}
	}
}

// TestFaultCorruptParent: the root h0 holds the image, then its blob is
// corrupted on disk. Its children fetch from it, fail verification, name
// it in bad_sources and finish from the mirror; nothing corrupt is
// installed.
func TestFaultCorruptParent(t *testing.T) {
	const size = 32 << 20
	ctx, tb := newTestbed(t, 3, size, "200Mbit", 5*time.Second)
	r := prepare(t, tb, Tree)
	startAll(ctx, t, r, []int{0}, []int{0})
	waitVerified(ctx, t, r, 0)
	corrupt(t, tb.paths(0).blob, size/2)
	for _, i := range []int{1, 2} {
		if err := r.StartApply(i); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{1, 2} {
		h := waitVerified(ctx, t, r, i)
		if !slices.Contains(h.BadSources, parentName(0)) {
			t.Errorf("host %s: bad_sources %v does not name the corrupt parent %s", h.Host, h.BadSources, parentName(0))
		}
		if h.BytesBySource["mirror.m"] == 0 {
			t.Errorf("host %s did not finish from the mirror: %v", h.Host, h.BytesBySource)
		}
	}
}

// corrupt flips one byte of a blob in place, keeping its size and mtime, as
// a failing disk would.
func corrupt(t *testing.T, path string, off int64) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
}
