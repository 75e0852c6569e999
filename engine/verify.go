package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
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
	// Repair is what Verify did about it: empty when nothing was wrong,
	// else "reinstalled", "blob fetched again", "failed: <error>", or
	// "none: <why>" when there is nothing trusted to repair from.
	Repair string `json:"repair,omitempty"`
}

// Damaged reports whether Verify found something wrong with the image.
func (c Checked) Damaged() bool { return c.Repair != "" }

// VerifyReport is what Verify found and what it repaired.
type VerifyReport struct {
	Checked []Checked `json:"checked"`
	Repair  *Result   `json:"repair"`
}

// Damaged counts the images Verify found something wrong with.
func (r *VerifyReport) Damaged() int {
	n := 0
	for _, c := range r.Checked {
		if c.Damaged() {
			n++
		}
	}
	return n
}

// Verify rehashes every installed image and every blob, removes corrupt
// blobs, and repairs what is wrong: an image whose installed copy is
// missing or changed is fetched and installed again, and a blob that is
// corrupt or missing is fetched again so that the host can serve it.
func (e *Engine) Verify(ctx context.Context) (*VerifyReport, error) {
	p, err := e.Plan(ctx)
	if err != nil {
		return nil, err
	}
	rep := &VerifyReport{}
	index := map[string]int{} // image -> its Checked
	for i := range p.Items {
		it := &p.Items[i]
		if it.Action == ActionRemove {
			continue
		}
		c, err := e.check(ctx, it)
		if err != nil {
			return nil, &ImageError{Image: it.Image, Err: err}
		}
		switch {
		case it.Action != ActionOK:
			c.Repair = "reinstalled" // the plan found it missing or changed
		case it.img == nil:
			// A held endorsed image (no list in force, or revoked and
			// kept) has no trusted identity to repair it from.
			if !c.InstallOK || c.Blob != "ok" {
				c.Repair = "none: no image list in force vouches for it"
			}
		case !c.InstallOK:
			it.Action, it.Code, it.Reason, c.Repair = ActionReplace, ReasonContentCorrupt, "installed content does not match its digest", "reinstalled"
		case c.Blob != "ok":
			it.blobOnly, it.Code, it.Reason, c.Repair = true, ReasonBlobMissing, "blob "+c.Blob+": fetching it again, to serve it", "blob fetched again"
		}
		index[it.Image] = len(rep.Checked)
		rep.Checked = append(rep.Checked, c)
	}
	rep.Repair, err = e.Apply(ctx, p)
	if rep.Repair != nil {
		for _, o := range rep.Repair.Outcomes {
			if i, ok := index[o.Image]; ok && o.Err != nil {
				rep.Checked[i].Repair = "failed: " + o.Error
			}
		}
	}
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
				return c, fmt.Errorf("removing corrupt blob: %w", err)
			}
		}
	}
	if it.Action != ActionFetch {
		want := it.Digest
		if it.current != nil && !it.current.InstallDigest.IsZero() {
			want = it.current.InstallDigest // a converted install
		}
		good, err := FileHas(ctx, it.Install, want)
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, store.ErrNotRegular) {
			return c, err
		}
		c.InstallOK = good
	}
	return c, nil
}

// FileHas reports whether the file at path hashes to want.
func FileHas(ctx context.Context, path string, want digest.Digest) (bool, error) {
	f, err := store.OpenRegular(path)
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
