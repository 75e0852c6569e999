package store

import "errors"

// The store's errors; test them with errors.Is.
var (
	// ErrAbsent: the store has neither a blob nor a staging file for the digest.
	ErrAbsent = errors.New("not in the store")
	// ErrIncomplete: a complete-only reader was asked for a blob that is still
	// being fetched (or was left partial).
	ErrIncomplete = errors.New("not complete in the store")
	// ErrFetchAbandoned: the staging file being followed stopped growing and
	// no process writes it any more, or it vanished without becoming a blob.
	ErrFetchAbandoned = errors.New("the fetch feeding this blob was abandoned")
	// ErrSizeMismatch: the staged bytes are not the expected length.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrDigestMismatch: the staged bytes do not hash to the expected digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrOverflow: a write would go past the image's size.
	ErrOverflow = errors.New("write past the image size")
	// ErrBusy: another process is writing the same staging file.
	ErrBusy = errors.New("staging file is being written by another process")
	// ErrForeignFile: an install path holds a file prestaged did not install.
	ErrForeignFile = errors.New("file exists and was not installed by prestaged")
	// ErrBlobCorrupt: a blob in the store no longer hashes to its digest (the
	// disk, or someone with root, changed it).
	ErrBlobCorrupt = errors.New("blob in the store does not match its digest")
	// ErrLocked: another reconciler holds the store.
	ErrLocked = errors.New("another prestaged apply holds the store lock")
	// ErrNotRegular: a path prestaged reads or writes is a symlink, FIFO,
	// device, socket or directory, not a regular file.
	ErrNotRegular = errors.New("not a regular file")
)
