package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prestaged/prestaged/spec"
	"golang.org/x/sys/unix"
)

// ErrNoSpace: a filesystem cannot hold what the plan must write.
var ErrNoSpace = errors.New("not enough free space")

// reserve is kept free on every filesystem prestaged writes to, so a full
// disk never takes the host down with it.
const reserve = 64 << 20

// preflight refuses the plan, before anything is downloaded, when a
// filesystem cannot hold what must land on it: the rest of each blob in the
// store, and a full copy at each install path (the old version is replaced
// only after the copy is complete).
func (e *Engine) preflight(p *Plan) error {
	need := map[uint64]int64{}
	where := map[uint64]string{}
	add := func(path string, n int64) error {
		dev, dir, err := device(path)
		if err != nil {
			return err
		}
		need[dev] += n
		where[dev] = dir
		return nil
	}
	for _, it := range p.Items {
		if it.Action != ActionFetch && it.Action != ActionReplace {
			continue
		}
		if err := add(e.Store.Root(), it.Size-it.Staged); err != nil {
			return err
		}
		if err := add(it.Install, it.Size); err != nil {
			return err
		}
	}
	for dev, n := range need {
		var fs unix.Statfs_t
		if err := unix.Statfs(where[dev], &fs); err != nil {
			return fmt.Errorf("free space of %s: %w", where[dev], err)
		}
		avail := int64(fs.Bavail) * int64(fs.Bsize)
		if n+reserve > avail {
			return fmt.Errorf("%w on the filesystem of %s: need %s (+%s reserve), %s available; nothing was downloaded",
				ErrNoSpace, where[dev], spec.FormatBytes(n), spec.FormatBytes(reserve), spec.FormatBytes(avail))
		}
	}
	return nil
}

// device finds the filesystem of path, or of its nearest existing parent.
func device(path string) (uint64, string, error) {
	for dir := path; ; dir = filepath.Dir(dir) {
		var st unix.Stat_t
		err := unix.Stat(dir, &st)
		if err == nil {
			return st.Dev, dir, nil
		}
		if !errors.Is(err, os.ErrNotExist) || dir == filepath.Dir(dir) {
			return 0, "", fmt.Errorf("free space of %s: %w", path, err)
		}
	}
}
