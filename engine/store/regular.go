package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// OpenRegular opens path read-only if it is a regular file. It never follows
// a symlink and never blocks on a FIFO or device: the open is O_NOFOLLOW and
// O_NONBLOCK, and the file's type is checked with fstat before any read.
func OpenRegular(path string) (*os.File, error) {
	return OpenRegularFile(path, os.O_RDONLY, 0)
}

// OpenRegularFile is OpenRegular with flags and perm as for os.OpenFile
// (O_CREATE creates a regular file).
func OpenRegularFile(path string, flag int, perm fs.FileMode) (*os.File, error) {
	fd, err := unix.Open(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, uint32(perm.Perm()))
	if errors.Is(err, unix.ELOOP) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("a symlink: %w", ErrNotRegular)}
	}
	if errors.Is(err, unix.ENXIO) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("a socket or FIFO: %w", ErrNotRegular)}
	}
	if errors.Is(err, unix.EISDIR) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("a directory: %w", ErrNotRegular)}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%s: %w", kind(st.Mode), ErrNotRegular)}
	}
	// Reads of a regular file never block; clear the flag so that the
	// file behaves as os.Open's would.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// readRegular is os.ReadFile through OpenRegular, for the store's small
// records (state.json, progress records).
func readRegular(path string) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxRead))
}

// maxRead is the most readRegular reads: more than any file of the store
// it serves (state.json, progress records) may hold.
const maxRead = maxState + 1

// LstatRegular is os.Lstat that also refuses anything but a regular file.
func LstatRegular(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		st, _ := fi.Sys().(*syscall.Stat_t)
		var m uint32
		if st != nil {
			m = st.Mode
		}
		return nil, &fs.PathError{Op: "lstat", Path: path, Err: fmt.Errorf("%s: %w", kind(m), ErrNotRegular)}
	}
	return fi, nil
}

func kind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "a symlink"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFDIR:
		return "a directory"
	}
	return "not a regular file"
}
