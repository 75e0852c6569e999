package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers/peer"
)

// storeContent lets a peer server serve the store's blobs, complete or
// still landing, without fetchers/peer knowing about the store.
type storeContent struct{ st *store.Store }

var (
	_ peer.Content       = storeContent{}
	_ peer.FetchReporter = storeContent{}
)

func (c storeContent) Open(ctx context.Context, d digest.Digest, size, off int64, completeOnly bool) (io.ReadCloser, error) {
	fl, err := c.st.Follow(ctx, d, size, off, store.FollowOptions{CompleteOnly: completeOnly})
	if errors.Is(err, store.ErrAbsent) || errors.Is(err, store.ErrIncomplete) {
		return nil, fmt.Errorf("%w: %w", peer.ErrNotYet, err)
	}
	if err != nil {
		return nil, err
	}
	return fl, nil
}

func (c storeContent) Have(d digest.Digest) (int64, bool, error) {
	h, err := c.st.Have(d)
	return h.Bytes, h.Presence == store.Complete, err
}

// Fetching: some process holds the staging file's flock for d.
func (c storeContent) Fetching(d digest.Digest) bool {
	h, err := c.st.Have(d)
	return err == nil && h.Presence == store.Partial && h.Writing
}

// Content is the store as a peer server's content.
func Content(st *store.Store) peer.Content { return storeContent{st} }
