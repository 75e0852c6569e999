package store

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// prepareTick is how often a Prepared looks at the staging file's prefix.
const prepareTick = 100 * time.Millisecond

// Prepared is an install copy begun while its image is still being fetched.
// The bytes below a staging file's complete prefix are final (a child may be
// streaming them already), so they can go to the temporary copy beside the
// install path as they land; after verification Install copies only what
// landed last. Without it every host of a swarm, which all finish within a
// second, copied its whole image at once: at N=32 on one machine that was
// 8 s after the last byte, and on a farm's disks it is a second image's
// worth of writes after the fetch.
//
// The temporary copy is never visible at the install path before Install
// renames it there, once the digest is verified.
type Prepared struct {
	path   string
	tmp    *os.File
	cancel context.CancelFunc
	done   chan struct{}
	copied int64 // bytes of tmp final; the goroutine's until done is closed
}

// Prepare starts copying w's complete prefix to a temporary file beside
// path, until Install or Abort. It returns nil, and Install is left to copy
// the whole blob, where copying ahead does not pay or cannot start: the
// filesystem clones files (reflinks make the install free), or the install
// directory cannot be written (Install reports that).
func (w *Staging) Prepare(path string) *Prepared {
	src, err := os.Open(w.f.Name()) // survives the rename into blobs/
	if err != nil {
		return nil
	}
	tmp, err := installTemp(path)
	if err != nil {
		src.Close()
		return nil
	}
	if unix.IoctlFileClone(int(tmp.Fd()), int(src.Fd())) == nil {
		src.Close()
		tmp.Close()
		os.Remove(tmp.Name())
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Prepared{path: path, tmp: tmp, cancel: cancel, done: make(chan struct{})}
	go p.follow(ctx, w, src)
	return p
}

// follow copies what joins w's complete prefix until ctx ends. A copy that
// fails stops it: Install copies the rest its own way.
func (p *Prepared) follow(ctx context.Context, w *Staging, src *os.File) {
	defer close(p.done)
	defer src.Close()
	tick := time.NewTicker(prepareTick)
	defer tick.Stop()
	for {
		for off := w.Offset(); p.copied < off; {
			if ctx.Err() != nil {
				return
			}
			n, err := copyAt(src, p.tmp, p.copied, min(off-p.copied, copyChunk))
			if err != nil || n == 0 {
				return
			}
			p.copied += n
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// stop ends the copying and returns how many bytes are in the copy.
func (p *Prepared) stop() int64 {
	p.cancel()
	<-p.done
	return p.copied
}

// Install makes b, the blob committed from the staging file p follows,
// appear at the install path as the package's Install does, copying only
// what p has not. p is used up.
func (p *Prepared) Install(ctx context.Context, b Blob) (FileID, error) {
	from := p.stop()
	if from > b.Size {
		p.Abort()
		return FileID{}, fmt.Errorf("install %s: prepared %d bytes of a %d-byte image: %w", p.path, from, b.Size, ErrSizeMismatch)
	}
	return finishInstall(ctx, b, p.path, p.tmp, from)
}

// Abort stops the copying and removes the copy. A nil p does nothing.
func (p *Prepared) Abort() {
	if p == nil {
		return
	}
	p.stop()
	p.tmp.Close()
	os.Remove(p.tmp.Name())
}
