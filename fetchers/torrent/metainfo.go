package torrent

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
)

// DefaultPieceLength is the piece size every host, mirror and endorser uses
// unless told otherwise: 4 MiB, what `mktorrent -l 22` writes. With the
// image's bytes and its file name it fixes the info-hash.
const DefaultPieceLength int64 = 1 << 22

// Piece lengths Make accepts: powers of two from 16 KiB (one request chunk)
// to 64 MiB (mktorrent allows more, but buffers of that size per in-flight
// piece are already large).
const (
	MinPieceLength int64 = 1 << 14
	MaxPieceLength int64 = 1 << 26
)

// CreatedBy is written into every metainfo Make builds. Creation date and
// comment are left out so the whole .torrent, not only its info-hash, is
// deterministic.
const CreatedBy = "prestaged"

// ErrPieceLength is returned for a piece length Make does not accept.
var ErrPieceLength = errors.New("piece length must be a power of two from 16 KiB to 64 MiB")

// Make builds the single-file BitTorrent v1 metainfo of size bytes read from
// r. Its info dictionary holds exactly what `mktorrent -l N FILE` writes
// (length, name, piece length, pieces), so both give the same info-hash for
// the same bytes, name and piece length. name is the image file's base name,
// the same on every host (the image's path on the mirror, not a blob's hex
// name). Make reads r once, in order.
func Make(r io.ReaderAt, size int64, name string, pieceLen int64) (*metainfo.MetaInfo, error) {
	return MakeContext(context.Background(), r, size, name, pieceLen)
}

// MakeContext is Make that stops when ctx is done: hashing a 10 GB image
// takes a while.
func MakeContext(ctx context.Context, r io.ReaderAt, size int64, name string, pieceLen int64) (*metainfo.MetaInfo, error) {
	if pieceLen < MinPieceLength || pieceLen > MaxPieceLength || pieceLen&(pieceLen-1) != 0 {
		return nil, fmt.Errorf("torrent make %s: %d: %w", name, pieceLen, ErrPieceLength)
	}
	if size <= 0 {
		return nil, fmt.Errorf("torrent make %s: size %d: an image has at least one byte", name, size)
	}
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
		return nil, fmt.Errorf("torrent make: name %q must be a file's base name", name)
	}
	pieces, err := hashPieces(ctx, r, size, pieceLen)
	if err != nil {
		return nil, fmt.Errorf("torrent make %s: %w", name, err)
	}
	info := metainfo.Info{Name: name, Length: size, PieceLength: pieceLen, Pieces: pieces}
	b, err := bencode.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("torrent make %s: %w", name, err)
	}
	return &metainfo.MetaInfo{InfoBytes: b, CreatedBy: CreatedBy}, nil
}

// MakeFile is Make over a file. An empty name means the file's base name.
func MakeFile(ctx context.Context, path, name string, pieceLen int64) (*metainfo.MetaInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("torrent make: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("torrent make: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("torrent make: %s is not a regular file", path)
	}
	if name == "" {
		name = filepath.Base(path)
	}
	return MakeContext(ctx, f, fi.Size(), name, pieceLen)
}

// InfoHash is the v1 info-hash of mi, as 40 lowercase hex digits (the form
// of an image's `infohash` attribute).
func InfoHash(mi *metainfo.MetaInfo) string { return mi.HashInfoBytes().HexString() }

// pieceJob is one piece read and waiting for a hasher.
type pieceJob struct {
	i   int
	buf []byte
}

// hashPieces returns the concatenated SHA-1 of each piece of [0, size) of r.
// One goroutine reads in order, a piece at a time (sequential reads of a
// few MiB are what disks and page cache like best); hashers on the other
// cores digest pieces in parallel, so reading is the bound, not SHA-1.
func hashPieces(ctx context.Context, r io.ReaderAt, size, pieceLen int64) ([]byte, error) {
	n := int((size + pieceLen - 1) / pieceLen)
	out := make([]byte, n*sha1.Size)
	workers := min(runtime.GOMAXPROCS(0), 4)
	free := make(chan []byte, workers+1)
	for range workers + 1 {
		free <- make([]byte, pieceLen)
	}
	jobs := make(chan pieceJob)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				sum := sha1.Sum(j.buf)
				copy(out[j.i*sha1.Size:], sum[:])
				free <- j.buf[:cap(j.buf)]
			}
		})
	}
	err := readPieces(ctx, r, size, pieceLen, free, jobs)
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readPieces reads r piece by piece into buffers from free and hands them
// to jobs.
func readPieces(ctx context.Context, r io.ReaderAt, size, pieceLen int64, free chan []byte, jobs chan<- pieceJob) error {
	for i, off := 0, int64(0); off < size; i, off = i+1, off+pieceLen {
		if err := ctx.Err(); err != nil {
			return err // checked first: select picks at random among ready cases
		}
		var buf []byte
		select {
		case <-ctx.Done():
			return ctx.Err()
		case buf = <-free:
		}
		buf = buf[:min(pieceLen, size-off)]
		// ReadAt fails whenever it reads less; io.EOF beside a full read is
		// just the end of the file.
		if m, err := r.ReadAt(buf, off); m < len(buf) {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("ended at %d, before %d bytes: %w", off+int64(m), size, io.ErrUnexpectedEOF)
			}
			return err
		}
		jobs <- pieceJob{i, buf}
	}
	return nil
}
