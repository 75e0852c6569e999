package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
	"github.com/prestaged/prestaged/digest"
)

// maxTorrent caps a kept .torrent: 4 MiB pieces of a 1 TB image take 5 MB.
const maxTorrent = 16 << 20

func (s *Store) torrentDir(a digest.Algo) string { return filepath.Join(s.root, "torrents", string(a)) }

// TorrentPath is where the store keeps the BitTorrent metainfo of blob d,
// so that serve seeds it and hands it to children without hashing the blob
// again.
func (s *Store) TorrentPath(d digest.Digest) string {
	return filepath.Join(s.torrentDir(d.Algo()), d.Hex()+".torrent")
}

// KeepTorrent stores b, an encoded .torrent, as the metainfo of blob d,
// atomically. Prune removes it with the blob.
func (s *Store) KeepTorrent(d digest.Digest, b []byte) error {
	if err := os.MkdirAll(s.torrentDir(d.Algo()), 0o755); err != nil {
		return fmt.Errorf("torrents: %w", err)
	}
	return renameio.WriteFile(s.TorrentPath(d), b, 0o644)
}

// Torrent reads the metainfo KeepTorrent kept for d.
func (s *Store) Torrent(d digest.Digest) ([]byte, error) {
	f, err := OpenRegular(s.TorrentPath(d))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTorrent+1))
	if err == nil && len(b) > maxTorrent {
		err = fmt.Errorf("%s: larger than %d MiB", s.TorrentPath(d), maxTorrent>>20)
	}
	return b, err
}
