package store

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prestaged/prestaged/internal/safe"
	"golang.org/x/sys/unix"
)

// prepareTick is how often a Prepared looks at the staging file's prefix.
const prepareTick = 100 * time.Millisecond

// Prepared is an install copy begun while its image is still being fetched.
// What has landed in the staging file goes to the temporary copy beside the
// install path as it lands; after verification Install copies only what
// landed last, and anew what was written twice (a source that took over
// rewrites what another one landed). Without it every host of a swarm,
// which all finish within a second, copied its whole image at once: at
// N=32 on one machine that was 8 s after the last byte, and on a farm's
// disks it is a second image's worth of writes after the fetch. Copying
// only the complete prefix ahead was not enough for a swarm, whose pieces
// land rarest first and whose prefix grows late: at N=32, 25 Mbit the
// hosts still took 5-9 s between the last byte landing and the last host
// exiting.
//
// The temporary copy is never visible at the install path before Install
// renames it there, once the digest is verified.
type Prepared struct {
	path   string
	w      *Staging
	tmp    *os.File
	cancel context.CancelFunc
	done   chan struct{}
	copied spans // what tmp holds; the goroutine's until done is closed
}

// Prepare starts copying what lands in w to a temporary file beside
// path, until Install or Abort. It returns nil, and Install is left to copy
// the whole blob, where copying ahead does not pay or cannot start: the
// filesystem clones files (reflinks make the install free), or the install
// directory cannot be written (Install reports that).
func (w *Staging) Prepare(path string) *Prepared {
	src, err := OpenRegular(w.f.Name()) // survives the rename into blobs/
	if err != nil {
		return nil
	}
	if !sameFile(src, w.f) { // swapped since Stage opened it
		src.Close()
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
	p := &Prepared{path: path, w: w, tmp: tmp, cancel: cancel, done: make(chan struct{})}
	safe.Go(func() { p.follow(ctx, w, src) })
	return p
}

// follow copies what lands in w until ctx ends. A copy that fails stops
// it: Install copies the rest its own way.
func (p *Prepared) follow(ctx context.Context, w *Staging, src *os.File) {
	defer close(p.done)
	defer src.Close()
	tick := time.NewTicker(prepareTick)
	defer tick.Stop()
	for {
		w.mu.Lock()
		landed := w.landed()
		w.mu.Unlock()
		for _, r := range landed.minus(p.copied) {
			for off := r.start; off < r.end; {
				if ctx.Err() != nil {
					return
				}
				n, err := copyAt(src, p.tmp, off, min(r.end-off, copyChunk))
				if err != nil || n == 0 {
					return
				}
				p.copied.add(off, off+n)
				off += n
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// stop ends the copying and returns what the copy holds.
func (p *Prepared) stop() spans {
	p.cancel()
	<-p.done
	return p.copied
}

// Install makes b, the blob committed from the staging file p follows,
// appear at the install path as the package's Install does, copying only
// what p has not, and what was written again after p copied it. p is used
// up.
func (p *Prepared) Install(ctx context.Context, b Blob, opt Options) (FileID, error) {
	copied := p.stop()
	if n := len(copied); n > 0 && copied[n-1].end > b.Size {
		p.Abort()
		return FileID{}, fmt.Errorf("install %s: prepared %d bytes of a %d-byte image: %w", p.path, copied[n-1].end, b.Size, ErrSizeMismatch)
	}
	p.w.mu.Lock()
	good := copied.minus(p.w.rewritten)
	p.w.mu.Unlock()
	return finishInstall(ctx, b, p.path, p.tmp, good.gaps(0, b.Size), opt)
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
