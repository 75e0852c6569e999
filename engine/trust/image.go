package trust

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"
	"github.com/prestaged/prestaged/digest"
)

// NewListOptions describes a new, empty list.
type NewListOptions struct {
	ID          string // dc:identifier; a new UUID when empty
	Title       string
	Description string
	Source      string // dc:source, e.g. the endorsing site
	URI         string // hv:uri: where subscribers fetch the list
	Creator     string // hv:endorser dc:creator; the certificate's CN when empty
	Email       string // hv:endorser hv:email
}

// NewList starts a list. It has no version and no dates: Sign sets them.
func NewList(o NewListOptions) *List {
	if o.ID == "" {
		o.ID = uuid.NewString()
	}
	return &List{
		ID: o.ID, Title: o.Title, Description: o.Description, Source: o.Source, URI: o.URI,
		Endorser: Endorser{Creator: o.Creator, Email: o.Email},
		Images:   []ListImage{},
	}
}

// ImageOptions describes an image for AddImage. Size and checksums come
// from the file.
type ImageOptions struct {
	ID          string // dc:identifier; required
	Title       string // required
	Description string
	URI         string // hv:uri: where subscribers download the image
	Version     string // hv:version; "1" for a new image, bumped on a replaced one
	Arch        string // sl:arch
	OS          string // sl:os
	OSVersion   string // sl:osversion
	Comments    string // sl:comments
	Hypervisor  string // hv:hypervisor
}

// AddImage hashes the file at path (sha512 and sha256 in one pass) and adds
// it to l, replacing an image with the same dc:identifier while keeping that
// entry's unknown keys.
func AddImage(ctx context.Context, l *List, path string, o ImageOptions) (*ListImage, error) {
	if o.ID == "" || o.Title == "" {
		return nil, errors.New("add image: an image needs an identifier (--id) and a title (--title)")
	}
	size, sha512, sha256, err := hashFile(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("add image %q: %w", o.ID, err)
	}
	im := l.Image(o.ID)
	if im == nil {
		l.Images = append(l.Images, ListImage{Version: "1"})
		im = &l.Images[len(l.Images)-1]
	} else if o.Version == "" && im.SHA512 != sha512.Hex() {
		if o.Version, err = BumpVersion(im.Version); err != nil {
			return nil, fmt.Errorf("add image %q: %w (give --version)", o.ID, err)
		}
	}
	im.ID, im.Title, im.Size = o.ID, o.Title, size
	im.SHA512, im.SHA256 = sha512.Hex(), sha256.Hex()
	setIf(&im.Version, o.Version)
	setIf(&im.Description, o.Description)
	setIf(&im.URI, o.URI)
	setIf(&im.Arch, o.Arch)
	setIf(&im.OS, o.OS)
	setIf(&im.OSVersion, o.OSVersion)
	setIf(&im.Comments, o.Comments)
	setIf(&im.Hypervisor, o.Hypervisor)
	return im, nil
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// hashFile reads path once, feeding sha512 and sha256 together.
func hashFile(ctx context.Context, path string) (int64, digest.Digest, digest.Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, digest.Digest{}, digest.Digest{}, err
	}
	defer f.Close()
	h512, h256 := digest.New(digest.SHA512), digest.New(digest.SHA256)
	n, err := io.CopyBuffer(io.MultiWriter(h512, h256), ctxReader{ctx, f}, make([]byte, 1<<20))
	if err != nil {
		return 0, digest.Digest{}, digest.Digest{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return n, digest.Sum(digest.SHA512, h512), digest.Sum(digest.SHA256, h256), nil
}

// ctxReader stops a long read when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
