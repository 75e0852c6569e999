package engine

import (
	"context"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/prestaged/prestaged/engine/convert"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/spec"
)

// publishedFormat is what the published file of img is: the spec's format,
// else (for endorsed images, set at resolution) the list's hv:format, else
// the path's extension, else raw.
func publishedFormat(img *spec.Image) string {
	if img.Format != "" {
		return img.Format
	}
	if f := spec.FormatOfName(img.Path); f != "" {
		return f
	}
	return spec.FormatRaw
}

// listFormat maps an image list's hv:format ("QCOW2", "RAW", "OVA") to a
// spec format, "" when it names none prestaged knows.
func listFormat(hv string) string {
	f := strings.ToLower(strings.TrimSpace(hv))
	for _, known := range spec.Formats {
		if f == known {
			return f
		}
	}
	return spec.FormatOfName("x." + f)
}

// derivedFormat is the format img's install is converted to, "" when the
// published bytes are installed as they are.
func derivedFormat(img *spec.Image) string {
	to, ok := convert.Needed(publishedFormat(img), img.InstallFormat)
	if !ok {
		return ""
	}
	return to
}

// formatName names a derived format for messages: "" is the published file.
func formatName(derived string) string {
	if derived == "" {
		return "the published file"
	}
	return derived
}

// installOptions are img's mode and owner.
func installOptions(img *spec.Image) store.Options {
	opt := store.Options{Mode: fs.FileMode(img.Mode)}
	if img.Owner != "" || img.Group != "" {
		opt.Owner = &store.Owner{UID: -1, GID: -1}
		if img.Owner != "" {
			opt.Owner.UID = img.UID
		}
		if img.Group != "" {
			opt.Owner.GID = img.GID
		}
	}
	return opt
}

// installBlob puts blob at it's install path in the form the spec asks,
// from where pre (if any) stopped copying it.
func installBlob(ctx context.Context, it *Item, blob store.Blob, pre *store.Prepared) (store.FileID, *store.Derived, error) {
	img, opt := it.img, installOptions(it.img)
	to := derivedFormat(img)
	if to == "" {
		if pre != nil {
			id, err := pre.Install(ctx, blob, opt)
			return id, nil, err
		}
		id, err := store.Install(ctx, blob, it.Install, opt)
		return id, nil, err
	}
	pre.Abort()
	job := convert.Job{Src: blob.Path, From: publishedFormat(img), Name: img.Path, To: to}
	id, d, err := store.InstallDerived(ctx, it.Install, opt, func(ctx context.Context, tmp *os.File, h io.Writer) (bool, error) {
		job.Dst, job.Hash = tmp, h
		return convert.Run(ctx, job)
	})
	if err != nil {
		return store.FileID{}, nil, err
	}
	return id, &d, nil
}
