package spec

import (
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/prestaged/prestaged/digest"
)

type rawImage struct {
	Name          string         `hcl:"name,label"`
	NameAt        hcl.Range      `hcl:"name,label_range"`
	SHA256        string         `hcl:"sha256,optional"`
	SHA512        string         `hcl:"sha512,optional"`
	Size          int64          `hcl:"size,optional"`
	Path          string         `hcl:"path,optional"`
	Install       string         `hcl:"install"`
	Sources       hcl.Expression `hcl:"sources,optional"`
	Trust         string         `hcl:"trust,optional"`
	ID            string         `hcl:"id,optional"`
	TorrentURL    string         `hcl:"torrent_url,optional"`
	InfoHash      string         `hcl:"infohash,optional"`
	Format        string         `hcl:"format,optional"`
	InstallFormat string         `hcl:"install_format,optional"`
	Owner         string         `hcl:"owner,optional"`
	Group         string         `hcl:"group,optional"`
	Mode          string         `hcl:"mode,optional"`
	OnChange      string         `hcl:"on_change,optional"`
	Body          hcl.Body       `hcl:",body"`
	DefRange      hcl.Range      `hcl:",def_range"`
}

// torrentURLSchemes are where a .torrent file may be fetched from.
var torrentURLSchemes = []string{"http", "https", "file"}

// images validates each image and the rules that span images: unique names
// and unique install paths.
func (v *validator) images(raws []*rawImage, s *Spec) []*Image {
	var out []*Image
	names := map[string]hcl.Range{}
	installs := map[string]*rawImage{}
	for _, raw := range raws {
		if first, dup := names[raw.Name]; dup {
			v.errorf(raw.NameAt, "Duplicate image block", "An image named %q was already defined at %s. Names must be unique.", raw.Name, first)
			continue
		}
		names[raw.Name] = raw.NameAt
		img := v.image(raw, s)
		if img.Install != "" {
			if other, dup := installs[img.Install]; dup {
				v.errorf(at(raw.Body, "install"), "Duplicate install path", "Image %q installs to %s, as image %q does (%s). Each image needs its own install path.",
					raw.Name, img.Install, other.Name, at(other.Body, "install"))
			}
			installs[img.Install] = raw
		}
		out = append(out, img)
	}
	return out
}

func (v *validator) image(raw *rawImage, s *Spec) *Image {
	img := &Image{Name: raw.Name, Path: raw.Name, Trust: raw.Trust, ID: raw.ID, Range: raw.DefRange}
	if raw.Name == "" {
		v.errorf(raw.NameAt, "Empty image name", "An image needs a name; it is also its default path on mirrors.")
	}
	v.identity(raw, img, s)
	v.imagePaths(raw, img, s.Store)
	v.imageTorrent(raw, img)
	ri := rawInstall{Format: raw.Format, InstallFormat: raw.InstallFormat, Owner: raw.Owner, Group: raw.Group, Mode: raw.Mode, OnChange: raw.OnChange}
	img.InstallOptions = v.installOptions(ri, raw.Body, fmt.Sprintf("image %q", raw.Name), defaultInstall)
	img.Sources = v.sources(raw, s)
	return img
}

// identity checks what names the content: a pinned digest and size, or a
// trust list entry that will supply them.
func (v *validator) identity(raw *rawImage, img *Image, s *Spec) {
	switch {
	case present(at(raw.Body, "sha256")) && present(at(raw.Body, "sha512")):
		v.errorf(at(raw.Body, "sha512"), "Conflicting digests", "Image %q gives both sha256 and sha512; give one.", raw.Name)
	case present(at(raw.Body, "sha256")):
		img.Digest = v.digest(digest.SHA256, raw.SHA256, at(raw.Body, "sha256"))
	case present(at(raw.Body, "sha512")):
		img.Digest = v.digest(digest.SHA512, raw.SHA512, at(raw.Body, "sha512"))
	}
	if where := at(raw.Body, "size"); present(where) {
		if raw.Size <= 0 {
			v.errorf(where, "Invalid size", "The size of image %q must be a positive number of bytes, got %d.", raw.Name, raw.Size)
		}
		img.Size = raw.Size
	}
	if present(at(raw.Body, "trust")) {
		v.trustRef(raw, s)
		return
	}
	if where := at(raw.Body, "id"); present(where) {
		v.errorf(where, "id without trust", "id names image %q in a trust block's list; add trust = \"<name>\" or remove id.", raw.Name)
	}
	if !present(at(raw.Body, "sha256")) && !present(at(raw.Body, "sha512")) {
		v.errorf(raw.DefRange, "Missing digest", "Image %q needs sha256 (or sha512) and size, or trust and id to take them from an endorsed list.", raw.Name)
	}
	if !present(at(raw.Body, "size")) {
		v.errorf(raw.DefRange, "Missing size", "Image %q needs its size in bytes, so that sources offering more are caught and free space is checked first.", raw.Name)
	}
}

func (v *validator) digest(algo digest.Algo, hexDigits string, at hcl.Range) digest.Digest {
	d, err := digest.FromHex(algo, hexDigits)
	if err != nil {
		v.errorf(at, "Invalid "+string(algo)+" digest", "%s.", err)
	}
	return d
}

func (v *validator) trustRef(raw *rawImage, s *Spec) {
	var names []string
	for _, t := range s.Trusts {
		names = append(names, t.Name)
	}
	if !slices.Contains(names, raw.Trust) {
		v.errorf(at(raw.Body, "trust"), "Unknown trust", "There is no trust block named %q.%s", raw.Trust, suggest(raw.Trust, names))
	}
	if !present(at(raw.Body, "id")) || raw.ID == "" {
		v.errorf(raw.DefRange, "Missing id", "Image %q takes its content from trust %q and needs the id (dc:identifier) of its entry in that list.", raw.Name, raw.Trust)
	}
}

// imagePaths checks the path on mirrors and the install path.
func (v *validator) imagePaths(raw *rawImage, img *Image, store string) {
	if where := at(raw.Body, "path"); present(where) {
		clean := path.Clean(raw.Path)
		if raw.Path == "" || path.IsAbs(raw.Path) || clean == ".." || strings.HasPrefix(clean, "../") {
			v.errorf(where, "Invalid image path", "path is relative to each mirror's url and must stay beneath it, got %q.", raw.Path)
		}
		img.Path = raw.Path
	}
	if !present(at(raw.Body, "install")) {
		return
	}
	if raw.Install == "" {
		v.errorf(at(raw.Body, "install"), "Empty install path", "Image %q needs the path where it must appear.", raw.Name)
		return
	}
	img.Install = v.path(raw.Install)
	if rel, err := filepath.Rel(store, img.Install); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		v.errorf(at(raw.Body, "install"), "Install path inside the store", "Image %q would install to %s, inside the store %s, which prestaged manages itself. Install it elsewhere.", raw.Name, img.Install, store)
	}
}

func (v *validator) imageTorrent(raw *rawImage, img *Image) {
	img.TorrentURL = v.locationAt(at(raw.Body, "torrent_url"), raw.TorrentURL, torrentURLSchemes, false,
		"Invalid torrent_url", fmt.Sprintf("The .torrent of image %q", raw.Name))
	if where := at(raw.Body, "infohash"); present(where) {
		h := strings.ToLower(raw.InfoHash)
		if _, err := hex.DecodeString(h); err != nil || len(h) != 40 {
			v.errorf(where, "Invalid infohash", "A BitTorrent v1 info-hash is 40 hexadecimal digits, got %q.", raw.InfoHash)
		}
		img.InfoHash = h
	}
}
