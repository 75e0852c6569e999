package store

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/prestaged/prestaged/digest"
)

// Prune removes blobs, staging files, progress records and kept torrents whose digest
// ("<algo>:<hex>") is not in keep. Only the reconciler holding the store
// lock calls it, so no staging file it removes is being written.
func (s *Store) Prune(keep map[string]bool) error {
	var firstErr error
	for _, a := range []digest.Algo{digest.SHA256, digest.SHA512} {
		for _, dir := range []string{s.blobDir(a), s.stagingDir(a), s.torrentDir(a)} {
			entries, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range entries {
				hex, _, _ := strings.Cut(e.Name(), ".")
				if keep[string(a)+":"+hex] || strings.HasPrefix(e.Name(), ".") {
					continue
				}
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	return firstErr
}
