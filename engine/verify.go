package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/prestaged/prestaged/digest"
)

// Checked is what Verify found for one image.
type Checked struct {
	Image   string        `json:"image"`
	Digest  digest.Digest `json:"digest"`
	Install string        `json:"install"`
	// InstallOK: the installed file hashes to the digest. Blob: "ok",
	// "absent" or "corrupt (removed)".
	InstallOK bool   `json:"install_ok"`
	Blob      string `json:"blob"`
}

// VerifyReport is what Verify found and what it repaired.
type VerifyReport struct {
	Checked []Checked `json:"checked"`
	Repair  *Result   `json:"repair"`
}

// Verify rehashes every installed image and every blob, removes corrupt
// blobs, and repairs what is wrong by fetching and installing again.
func (e *Engine) Verify(ctx context.Context) (*VerifyReport, error) {
	p, err := e.Plan(ctx)
	if err != nil {
		return nil, err
	}
	rep := &VerifyReport{}
	for i := range p.Items {
		it := &p.Items[i]
		if it.Action == ActionRemove {
			continue
		}
		c, err := e.check(ctx, it)
		if err != nil {
			return nil, err
		}
		// A held endorsed image (no list in force, or revoked and kept) has
		// no trusted identity to repair it from: it is checked, not fetched.
		if !c.InstallOK && it.Action == ActionOK && it.img != nil {
			it.Action, it.Reason = ActionReplace, "installed content does not match its digest"
		}
		rep.Checked = append(rep.Checked, c)
	}
	rep.Repair, err = e.Apply(ctx, p)
	return rep, err
}

func (e *Engine) check(ctx context.Context, it *Item) (Checked, error) {
	c := Checked{Image: it.Image, Digest: it.Digest, Install: it.Install, Blob: "absent"}
	if b, ok := e.Store.Blob(it.Digest); ok {
		good, err := FileHas(ctx, b.Path, it.Digest)
		if err != nil {
			return c, err
		}
		c.Blob = "ok"
		if !good {
			c.Blob = "corrupt (removed)"
			if err := os.Remove(b.Path); err != nil {
				return c, fmt.Errorf("image %s: removing corrupt blob: %w", it.Image, err)
			}
		}
	}
	if it.Action != ActionFetch {
		good, err := FileHas(ctx, it.Install, it.Digest)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return c, err
		}
		c.InstallOK = good
	}
	return c, nil
}

// FileHas reports whether the file at path hashes to want.
func FileHas(ctx context.Context, path string, want digest.Digest) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	got, _, err := digest.Of(want.Algo(), ctxFile{ctx, f})
	if err != nil {
		return false, fmt.Errorf("hashing %s: %w", path, err)
	}
	return got == want, nil
}
