package store

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// WriteNTo follows a growing staging file through to the blob, and reports
// an abandoned fetch as a ContentError (the server aborts the response).
func TestFollowWriteNTo(t *testing.T) {
	const size = 1 << 20
	data, d := testutil.Image(t, size, 1)
	for _, tt := range []struct {
		name    string
		finish  func(w *followWriter)
		wantErr error
	}{
		{"completes", func(w *followWriter) { w.write(data[size/2:]); w.commit() }, nil},
		{"writer killed", func(w *followWriter) { w.kill() }, ErrFetchAbandoned},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tempStore(t)
			w := newFollowWriter(t, s, d)
			w.write(data[:size/2])
			fl, err := s.Follow(context.Background(), d, size, 1000, FollowOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer fl.Close()
			go tt.finish(w)
			var got bytes.Buffer
			n, err := fl.WriteNTo(&got, size-1000)
			var ce ContentError
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &ce) {
					t.Fatalf("WriteNTo = %d, %v; want a ContentError wrapping %v", n, err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got.Bytes(), data[1000:]) {
				t.Fatalf("WriteNTo = %d, %v; bytes equal: %t", n, err, bytes.Equal(got.Bytes(), data[1000:]))
			}
		})
	}
}
