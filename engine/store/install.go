package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prestaged/prestaged/digest"
	"golang.org/x/sys/unix"
)

// ErrForeignFile: an install path holds a file prestaged did not install.
var ErrForeignFile = errors.New("file exists and was not installed by prestaged")

// Blob is verified content in blobs/.
type Blob struct {
	Digest digest.Digest
	Path   string
	Size   int64
	// SHA256 is the content's sha256 when Digest is of another algorithm
	// (zero otherwise).
	SHA256 digest.Digest
}

// Blob returns the verified blob for d, if the store has it.
func (s *Store) Blob(d digest.Digest) (Blob, bool) {
	p := s.BlobPath(d)
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return Blob{}, false
	}
	return Blob{Digest: d, Path: p, Size: fi.Size()}, true
}

// FileID is what a converged host is recognised by without rehashing.
type FileID struct {
	Size  int64     `json:"size"`
	MTime time.Time `json:"mtime"`
	Inode uint64    `json:"inode"`
}

// Identify stats path.
func Identify(path string) (FileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return FileID{}, err
	}
	id := FileID{Size: fi.Size(), MTime: fi.ModTime().UTC()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Inode = st.Ino
	}
	return id, nil
}

// Install makes a private copy of b appear at path atomically: the copy is
// written to a temporary name beside path, fsynced, and renamed over it. A
// copy, never a hard link, so that a VM writing to its image cannot corrupt
// the blob that peers serve; on filesystems with reflinks (XFS, btrfs) the
// copy shares extents and costs no space or time.
func Install(ctx context.Context, b Blob, path string) (FileID, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return FileID{}, fmt.Errorf("install %s: %w", path, err)
	}
	removeStaleCopies(dir, filepath.Base(path))
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".prestaged-*")
	if err != nil {
		return FileID{}, fmt.Errorf("install %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := copyBlob(ctx, b, tmp); err != nil {
		tmp.Close()
		return FileID{}, fmt.Errorf("install %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return FileID{}, fmt.Errorf("install %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return FileID{}, fmt.Errorf("install %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return FileID{}, err
	}
	return Identify(path)
}

// removeStaleCopies removes temporary copies a killed run left beside an
// install path: up to a whole image each. The names are prestaged's own and
// the caller holds the store lock, so none is being written.
func removeStaleCopies(dir, base string) {
	esc := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(base)
	stale, _ := filepath.Glob(filepath.Join(dir, "."+esc+".prestaged-*"))
	for _, f := range stale {
		os.Remove(f)
	}
}

func copyBlob(ctx context.Context, b Blob, dst *os.File) error {
	src, err := os.Open(b.Path)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := dst.Chmod(0o644); err != nil {
		return err
	}
	if unix.IoctlFileClone(int(dst.Fd()), int(src.Fd())) != nil {
		if err := copyRange(ctx, src, dst, b.Size); err != nil {
			return err
		}
	}
	fi, err := dst.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != b.Size {
		return fmt.Errorf("copied %d of %d bytes: %w", fi.Size(), b.Size, ErrSizeMismatch)
	}
	return dst.Sync()
}

// copyChunk is how much copyRange copies between looks at ctx: a second
// or so of a disk's bandwidth.
const copyChunk = 64 << 20

// copyRange copies the first n bytes of src to dst inside the kernel
// (copy_file_range: no pass through user space, which was most of a tree
// apply's CPU on tmpfs and ext4), in chunks so that ctx can cancel it.
// Where the kernel cannot (another filesystem, an old kernel), it copies
// through a buffer.
func copyRange(ctx context.Context, src, dst *os.File, n int64) error {
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := unix.CopyFileRange(int(src.Fd()), nil, int(dst.Fd()), nil, int(min(n-done, copyChunk)), 0)
		if err != nil || m == 0 {
			if done == 0 && (errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) ||
				errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)) {
				return copyBuffered(ctx, src, dst, n)
			}
			if err == nil {
				err = fmt.Errorf("copied %d of %d bytes: %w", done, n, ErrSizeMismatch)
			}
			return err
		}
		done += int64(m)
	}
	return nil
}

func copyBuffered(ctx context.Context, src, dst *os.File, n int64) error {
	buf := make([]byte, 1<<20)
	_, err := io.CopyBuffer(struct{ io.Writer }{dst}, &ctxReader{ctx: ctx, r: io.LimitReader(src, n)}, buf)
	return err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// RemoveInstalled removes path if it is still the file prestaged installed
// (same inode and size), and reports whether it did. A file replaced by
// someone else since is left alone.
func RemoveInstalled(path string, want FileID) (bool, error) {
	got, err := Identify(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", path, err)
	}
	if got.Inode != want.Inode || got.Size != want.Size {
		return false, nil
	}
	if err := os.Remove(path); err != nil {
		return false, fmt.Errorf("remove %s: %w", path, err)
	}
	return true, syncDir(filepath.Dir(path))
}
