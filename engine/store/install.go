package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prestaged/prestaged/digest"
	"golang.org/x/sys/unix"
)

// Blob is verified content in blobs/.
type Blob struct {
	Digest digest.Digest
	Path   string
	Size   int64
	// SHA256 is the content's sha256 when Digest is of another algorithm
	// (zero otherwise).
	SHA256 digest.Digest
	// verified: this process hashed the bytes (Commit). Install hashes
	// the copy of any other blob before it renames it into place.
	verified bool
}

// Blob returns the blob for d, if the store has it. Its bytes were verified
// when it was committed, perhaps by an earlier run: Install checks them
// again. Anything but a regular file at the blob path is not a blob (Stage
// refuses it).
func (s *Store) Blob(d digest.Digest) (Blob, bool) {
	p := s.BlobPath(d)
	fi, err := LstatRegular(p)
	if err != nil {
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

// Identify stats path, which must be a regular file (ErrNotRegular): a
// symlink is not followed.
func Identify(path string) (FileID, error) {
	fi, err := LstatRegular(path)
	if err != nil {
		return FileID{}, err
	}
	return fileID(fi), nil
}

// IdentifyFile is Identify of an open file: what was read is what is
// recorded, whatever is at its path by now.
func IdentifyFile(f *os.File) (FileID, error) {
	fi, err := f.Stat()
	if err != nil {
		return FileID{}, err
	}
	if !fi.Mode().IsRegular() {
		return FileID{}, &fs.PathError{Op: "fstat", Path: f.Name(), Err: ErrNotRegular}
	}
	return fileID(fi), nil
}

func fileID(fi fs.FileInfo) FileID {
	id := FileID{Size: fi.Size(), MTime: fi.ModTime().UTC()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Inode = st.Ino
	}
	return id
}

// Install makes a private copy of b appear at path atomically: the copy is
// written to a temporary name beside path, fsynced, and renamed over it.
// Unless b was committed by this process, the copy is hashed before the
// rename, and a mismatch is ErrBlobCorrupt: no unverified byte reaches path. A
// copy, never a hard link, so that a VM writing to its image cannot corrupt
// the blob that peers serve; on filesystems with reflinks (XFS, btrfs) the
// copy shares extents and costs no space or time.
func Install(ctx context.Context, b Blob, path string, opt Options) (FileID, error) {
	tmp, err := installTemp(path)
	if err != nil {
		return FileID{}, err
	}
	return finishInstall(ctx, b, path, tmp, spans(nil).gaps(0, b.Size), opt)
}

// Options shape an install before it is renamed into place, so that a
// consumer never sees it with the wrong owner or mode.
type Options struct {
	Mode  fs.FileMode // permission bits; 0 means DefaultMode
	Owner *Owner      // nil keeps the running user's
}

// Owner is an install's owner and group; -1 keeps the running user's.
type Owner struct{ UID, GID int }

// DefaultMode is an install's mode unless Options say otherwise.
const DefaultMode fs.FileMode = 0o644

// Derived is an install that is not the blob's bytes (a decompressed or
// converted image): its digest and size, for state.json and verify.
type Derived struct {
	Digest digest.Digest
	Size   int64
}

// InstallDerived makes the file write produces appear at path atomically,
// as Install does: write fills the temporary file beside path (it may
// reopen it by name, and leaves its holes), which is then synced, hashed
// (unless write hashed what it wrote into h and says so), given opt's owner
// and mode, and renamed over path. A failed write leaves path as it was.
func InstallDerived(ctx context.Context, path string, opt Options, write func(ctx context.Context, tmp *os.File, h io.Writer) (bool, error)) (FileID, Derived, error) {
	tmp, err := installTemp(path)
	if err != nil {
		return FileID{}, Derived{}, err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	defer tmp.Close()
	h := digest.New(digest.SHA256)
	hashed, err := write(ctx, tmp, h)
	if err != nil {
		return FileID{}, Derived{}, fmt.Errorf("install %s: %w", path, err)
	}
	f, err := OpenRegularFile(tmp.Name(), os.O_RDWR, 0)
	if err != nil {
		return FileID{}, Derived{}, fmt.Errorf("install %s: %w", path, err)
	}
	defer f.Close()
	d, n, err := digest.Sum(digest.SHA256, h), int64(0), error(nil)
	if fi, serr := f.Stat(); serr == nil {
		n = fi.Size()
	}
	if !hashed {
		d, n, err = digest.Of(digest.SHA256, &ctxReader{ctx: ctx, r: f})
	}
	if err != nil {
		return FileID{}, Derived{}, fmt.Errorf("install %s: hashing the derived file: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return FileID{}, Derived{}, fmt.Errorf("install %s: %w", path, err)
	}
	id, err := placeInstall(f, path, opt)
	return id, Derived{Digest: d, Size: n}, err
}

// placeInstall gives f, the finished temporary copy, opt's owner and mode,
// and renames it over path.
func placeInstall(f *os.File, path string, opt Options) (FileID, error) {
	mode := opt.Mode
	if mode == 0 {
		mode = DefaultMode
	}
	if o := opt.Owner; o != nil {
		if err := f.Chown(o.UID, o.GID); err != nil {
			return FileID{}, fmt.Errorf("install %s: %w", path, err)
		}
	}
	if err := f.Chmod(mode); err != nil { // after chown, which clears setuid bits
		return FileID{}, fmt.Errorf("install %s: %w", path, err)
	}
	if err := replaceable(path); err != nil {
		return FileID{}, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return FileID{}, fmt.Errorf("install %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return FileID{}, err
	}
	return Identify(path)
}

// installTemp creates the temporary copy beside path, removing those a
// killed run left.
func installTemp(path string) (*os.File, error) {
	if err := replaceable(path); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("install %s: %w", path, err)
	}
	removeStaleCopies(dir, filepath.Base(path))
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".prestaged-*") // 0600 until placed
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", path, err)
	}
	return tmp, nil
}

// finishInstall copies the todo ranges of b into tmp, which holds b's
// other bytes already, and renames tmp over path.
func finishInstall(ctx context.Context, b Blob, path string, tmp *os.File, todo spans, opt Options) (FileID, error) {
	defer os.Remove(tmp.Name()) // no-op after the rename
	defer tmp.Close()
	if err := copyBlob(ctx, b, tmp, todo); err != nil {
		return FileID{}, fmt.Errorf("install %s: %w", path, err)
	}
	if !b.verified {
		if err := checkCopy(ctx, b, tmp); err != nil {
			return FileID{}, fmt.Errorf("install %s: %w", path, err)
		}
	}
	return placeInstall(tmp, path, opt)
}

// checkCopy hashes the copy of b in f: the bytes that will be renamed into
// place are the ones checked. With a reflink the copy shares the blob's
// extents, so this reads the blob.
func checkCopy(ctx context.Context, b Blob, f *os.File) error {
	got, n, err := digest.Of(b.Digest.Algo(), &ctxReader{ctx: ctx, r: io.NewSectionReader(f, 0, b.Size+1)})
	if err != nil {
		return fmt.Errorf("hashing the copy of %s: %w", b.Path, err)
	}
	if got != b.Digest || n != b.Size {
		return fmt.Errorf("%s: %w", b.Path, ErrBlobCorrupt)
	}
	return nil
}

// RemoveBlob removes the blob of d, if any: it failed verification.
func (s *Store) RemoveBlob(d digest.Digest) error {
	err := os.Remove(s.BlobPath(d))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing blob %s: %w", d.Short(), err)
	}
	return syncDir(s.blobDir(d.Algo()))
}

// replaceable refuses an install path that holds anything but a regular
// file: prestaged installs only regular files, so a symlink, FIFO, device,
// socket or directory there is someone else's and is not renamed over.
func replaceable(path string) error {
	_, err := LstatRegular(path)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("install %s: %w; move it away or change install", path, err)
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

// copyBlob copies the todo ranges of b into dst, which holds b's other
// bytes already, and fsyncs it. A whole blob is cloned where the
// filesystem can.
func copyBlob(ctx context.Context, b Blob, dst *os.File, todo spans) error {
	src, err := OpenRegular(b.Path)
	if err != nil {
		return err
	}
	defer src.Close()
	whole := len(todo) == 1 && todo[0] == span{0, b.Size}
	cloned := whole && unix.IoctlFileClone(int(dst.Fd()), int(src.Fd())) == nil
	if !cloned {
		for _, r := range todo {
			if err := copyRange(ctx, src, dst, r.start, r.end); err != nil {
				return err
			}
		}
	}
	fi, err := dst.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < b.Size && !cloned { // a hole at the end was passed over
		if err := dst.Truncate(b.Size); err != nil {
			return err
		}
		fi, err = dst.Stat()
		if err != nil {
			return err
		}
	}
	if fi.Size() != b.Size {
		return fmt.Errorf("copied %d of %d bytes: %w", fi.Size(), b.Size, ErrSizeMismatch)
	}
	return dst.Sync()
}

// copyChunk is how much copyRange copies between looks at ctx: a second
// or so of a disk's bandwidth.
const copyChunk = 64 << 20

// copyRange copies bytes [from, to) of src to the same offsets of dst inside
// the kernel (copy_file_range: no pass through user space, which was most
// of a tree apply's CPU on tmpfs and ext4), in chunks so that ctx can cancel
// it. Where the kernel cannot (another filesystem, an old kernel), it
// copies through a buffer.
func copyRange(ctx context.Context, src, dst *os.File, from, to int64) error {
	for off := from; off < to; {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := copyAt(src, dst, off, min(to-off, copyChunk))
		if err != nil || m == 0 {
			if off == from && (errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) ||
				errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)) {
				return copyBuffered(ctx, src, dst, from, to)
			}
			if err == nil {
				err = fmt.Errorf("copied %d of %d bytes: %w", off, to, ErrSizeMismatch)
			}
			return err
		}
		off += m
	}
	return nil
}

// copyAt copies up to n bytes at off from src to dst in the kernel, and
// reports how far it got. A hole of src is passed over, not copied: dst, a
// fresh file, reads zeros there already, so copies of sparse blobs stay
// sparse.
func copyAt(src, dst *os.File, off, n int64) (int64, error) {
	if data, err := unix.Seek(int(src.Fd()), off, unix.SEEK_DATA); err == nil && data > off {
		return min(data-off, n), nil
	} else if errors.Is(err, unix.ENXIO) { // only a hole from off to the end
		return n, nil
	}
	if hole, err := unix.Seek(int(src.Fd()), off, unix.SEEK_HOLE); err == nil && hole > off {
		n = min(n, hole-off)
	}
	roff, woff := off, off
	m, err := unix.CopyFileRange(int(src.Fd()), &roff, int(dst.Fd()), &woff, int(n), 0)
	return int64(m), err
}

// copyBuffered is copyRange through a buffer. It reads at offsets, never
// from src's file position, which copyAt's look for holes moves.
func copyBuffered(ctx context.Context, src, dst *os.File, from, to int64) error {
	r := io.NewSectionReader(src, from, to-from)
	buf := make([]byte, 1<<20)
	_, err := io.CopyBuffer(io.NewOffsetWriter(dst, from), &ctxReader{ctx: ctx, r: r}, buf)
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
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrNotRegular) {
		return false, nil // not ours any more
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
