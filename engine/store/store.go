// Package store owns prestaged's on-disk content store: staging files that
// are hashed while written, verified blobs, atomic installs, state.json and
// the reconciler lock. Layout (see docs/store.md):
//
//	<store>/lock                        flock: one reconciler at a time
//	<store>/blobs/<algo>/<hex>          verified content, mode 0444, served to peers
//	<store>/staging/<algo>/<hex>.part   bytes being fetched; the writer holds an flock on it
//	<store>/staging/<algo>/<hex>.progress  complete-prefix length, when bytes land out of order
//	<store>/state.json                  what prestaged installed
//	<store>/lists/<trust>.json          last accepted image list per trust block
//
// store imports only digest (and the standard library plus small helpers);
// it knows nothing of fetchers or HCL.
package store

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/prestaged/prestaged/digest"
)

// Store is a content store rooted at a directory.
type Store struct {
	root string
}

// Open prepares the store's directories under root (created when missing).
func Open(root string) (*Store, error) {
	s := &Store{root: root}
	for _, d := range []string{s.root, s.blobDir(digest.SHA256), s.blobDir(digest.SHA512),
		s.stagingDir(digest.SHA256), s.stagingDir(digest.SHA512), filepath.Join(root, "lists")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("store %s: %w", root, err)
		}
	}
	return s, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

func (s *Store) blobDir(a digest.Algo) string    { return filepath.Join(s.root, "blobs", string(a)) }
func (s *Store) stagingDir(a digest.Algo) string { return filepath.Join(s.root, "staging", string(a)) }

// BlobPath is where verified content for d lives.
func (s *Store) BlobPath(d digest.Digest) string {
	return filepath.Join(s.blobDir(d.Algo()), d.Hex())
}

// StagingPath is where bytes for d land while they are fetched.
func (s *Store) StagingPath(d digest.Digest) string {
	return filepath.Join(s.stagingDir(d.Algo()), d.Hex()+".part")
}

// ProgressPath records the complete-prefix length of a staging file whose
// bytes land out of order (BitTorrent). It is absent for in-order writers,
// whose complete prefix is the staging file's size.
func (s *Store) ProgressPath(d digest.Digest) string {
	return filepath.Join(s.stagingDir(d.Algo()), d.Hex()+".progress")
}

// ListsDir holds the last accepted image list of each trust block.
func (s *Store) ListsDir() string { return filepath.Join(s.root, "lists") }

func (s *Store) statePath() string { return filepath.Join(s.root, "state.json") }
func (s *Store) lockPath() string  { return filepath.Join(s.root, "lock") }
