package fetcherstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/prestaged/prestaged/fetchers"
)

func TestSuiteFake(t *testing.T) {
	Suite(t, func(t *testing.T, content []byte, path string) fetchers.Fetcher {
		return &Fake{Content: content, Path: path}
	})
}

func TestBufferWriteAtJoinsPrefix(t *testing.T) {
	content := Content(100, 1)
	tests := []struct {
		name   string
		writes [][2]int // [off, end) ranges written with WriteAt
		want   int64    // Offset afterwards
	}{
		{"in order", [][2]int{{0, 10}, {10, 100}}, 100},
		{"hole", [][2]int{{0, 10}, {20, 100}}, 10},
		{"hole filled", [][2]int{{50, 100}, {0, 10}, {10, 50}}, 100},
		{"overlap", [][2]int{{0, 30}, {20, 60}, {40, 70}}, 70},
		{"chain out of order", [][2]int{{30, 40}, {10, 20}, {20, 30}, {0, 10}}, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuffer(nil)
			for _, w := range tc.writes {
				if _, err := b.WriteAt(content[w[0]:w[1]], int64(w[0])); err != nil {
					t.Fatal(err)
				}
			}
			got := Observe(b, content)
			if got.Offset != tc.want || !got.Intact {
				t.Errorf("after %v: %+v, want offset %d, intact", tc.writes, got, tc.want)
			}
		})
	}
}

func TestFakeFaults(t *testing.T) {
	content := Content(1000, 2)
	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		faults    []Fault
		size      int64 // Request.Size; 0 means len(content)
		wantErr   error
		wantPerm  bool
		wantBytes int64
	}{
		{"fail after", []Fault{{Kind: FailAfter, At: 300, Err: errBoom}}, 0, errBoom, false, 300},
		{"fail at end", []Fault{{Kind: FailAfter, At: 1000}}, 0, ErrInjected, false, 1000},
		{"stall", []Fault{{Kind: StallAfter, At: 400}}, 0, context.DeadlineExceeded, false, 400},
		{"too long", []Fault{{Kind: TooLong}}, 0, fetchers.ErrTooLong, true, 1000},
		{"content longer than size", nil, 900, fetchers.ErrTooLong, true, 0},
		{"content shorter than size", nil, 1100, fetchers.ErrTooShort, false, 1000},
		{"overrun", []Fault{{Kind: Overrun, At: 10}}, 0, nil, false, 1010},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &Fake{Content: content, Faults: tc.faults, ChunkSize: 128}
			req := fetchers.Request{Image: "t", Size: int64(len(content))}
			if tc.size != 0 {
				req.Size = tc.size
			}
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			buf := NewBuffer(nil)
			err := f.Fetch(ctx, req, buf)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("err %v, want %v", err, tc.wantErr)
			}
			if got := fetchers.IsPermanent(err); got != tc.wantPerm {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tc.wantPerm)
			}
			if buf.Len() != tc.wantBytes {
				t.Errorf("wrote %d bytes, want %d", buf.Len(), tc.wantBytes)
			}
		})
	}
}

func TestFakeFaultTimesAndServed(t *testing.T) {
	content := Content(1000, 3)
	f := &Fake{Content: content, ChunkSize: 100, Faults: []Fault{
		{Kind: FailAfter, At: 250, Times: 1},
		{Kind: CorruptAt, At: 700},
	}}
	req := fetchers.Request{Image: "t", Size: 1000}
	buf := NewBuffer(nil)
	if err := f.Fetch(t.Context(), req, buf); !errors.Is(err, ErrInjected) {
		t.Fatalf("first call: err %v, want ErrInjected", err)
	}
	if err := f.Fetch(t.Context(), req, buf); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if diff := cmp.Diff([]Span{{0, 250}, {250, 750}}, f.Served()); diff != "" {
		t.Errorf("served (-want +got):\n%s", diff)
	}
	got := buf.Bytes()
	want := append([]byte(nil), content...)
	want[700] ^= 0xff
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("content with byte 700 corrupted (-want +got):\n%s", diff)
	}
	if content[700] == got[700] {
		t.Errorf("Fake corrupted its own Content")
	}
}
