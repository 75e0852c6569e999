// Package trust owns signed HEPiX image lists (the hv:imagelist format of
// hepixvmitrust, vmcatcher and vmcaster) on both sides: a subscriber fetches
// a list, verifies its S/MIME signature against an OpenSSL hashed CA
// directory, checks the endorser, dates and version, and remembers the last
// accepted copy for rollback protection; an endorser builds, fills and signs
// lists.
//
// trust imports spec and digest of prestaged and nothing else: the engine
// hands it the lists directory of the store as a plain path.
package trust

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/prestaged/prestaged/digest"
)

// List is an hv:imagelist. Keys this package does not model (EGI AppDB adds
// ad:*, hv:ram_minimum, ...) are kept and written back unchanged by MarshalJSON.
type List struct {
	Created     time.Time // dc:date:created
	Expires     time.Time // dc:date:expires
	ID          string    // dc:identifier, a UUID
	Title       string    // dc:title
	Description string    // dc:description
	Source      string    // dc:source
	URI         string    // hv:uri: where the next version of the list is fetched
	Version     string    // hv:version
	Endorser    Endorser  // hv:endorser/hv:x509
	Images      []ListImage

	extra      map[string]json.RawMessage // unknown keys of hv:imagelist
	outerExtra map[string]json.RawMessage // unknown keys beside hv:imagelist
}

// Endorser is hv:endorser/hv:x509. DN and CA are OpenSSL one-line DNs.
type Endorser struct {
	Creator string // dc:creator
	CA      string // hv:ca
	DN      string // hv:dn
	Email   string // hv:email

	extra     map[string]json.RawMessage // unknown keys of hv:x509
	outerKeys map[string]json.RawMessage // unknown keys of hv:endorser
}

// ListImage is one hv:image of a list.
type ListImage struct {
	ID          string // dc:identifier
	Title       string // dc:title
	Description string // dc:description
	URI         string // hv:uri
	Size        int64  // hv:size, bytes
	Version     string // hv:version
	SHA512      string // sl:checksum:sha512, hex
	SHA256      string // sl:checksum:sha256, hex; written by prestaged, ignored by others
	Arch        string // sl:arch
	OS          string // sl:os
	OSVersion   string // sl:osversion
	Comments    string // sl:comments
	Hypervisor  string // hv:hypervisor
	Format      string // hv:format: "raw", "qcow2", "ova", ...

	extra   map[string]json.RawMessage // unknown keys of hv:image
	wrapper map[string]json.RawMessage // unknown keys beside hv:image
}

// Digests parses the image's checksums; SHA256 is zero when absent.
func (im *ListImage) Digests() (sha512, sha256 digest.Digest, err error) {
	sha512, err = digest.FromHex(digest.SHA512, im.SHA512)
	if err != nil {
		return sha512, sha256, fmt.Errorf("image %q: sl:checksum:sha512: %w", im.ID, err)
	}
	if im.SHA256 != "" {
		sha256, err = digest.FromHex(digest.SHA256, im.SHA256)
		if err != nil {
			return sha512, sha256, fmt.Errorf("image %q: sl:checksum:sha256: %w", im.ID, err)
		}
	}
	return sha512, sha256, nil
}

// ParseList reads a list's JSON. It checks types, not completeness: a list
// being built by an endorser may lack dates. Errors wrap ErrMalformed.
func ParseList(b []byte) (*List, error) {
	var l List
	if err := l.UnmarshalJSON(b); err != nil { // directly: json.Unmarshal would validate b twice
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &l, nil
}

// Validate checks what a subscriber needs: an identifier, and for every
// image an identifier (unique), a size and a valid sha512.
func (l *List) Validate() error {
	if l.ID == "" {
		return fmt.Errorf("%w: the list has no dc:identifier", ErrMalformed)
	}
	seen := make(map[string]bool, len(l.Images))
	for i := range l.Images {
		im := &l.Images[i]
		if im.ID == "" {
			return fmt.Errorf("%w: image %d of the list has no dc:identifier", ErrMalformed, i+1)
		}
		if seen[im.ID] {
			return fmt.Errorf("%w: image %q appears twice in the list", ErrMalformed, im.ID)
		}
		seen[im.ID] = true
		if im.Size < 0 {
			return fmt.Errorf("%w: image %q has negative hv:size %d", ErrMalformed, im.ID, im.Size)
		}
		if _, _, err := im.Digests(); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	return nil
}

// Image returns the image with dc:identifier id, or nil.
func (l *List) Image(id string) *ListImage {
	for i := range l.Images {
		if l.Images[i].ID == id {
			return &l.Images[i]
		}
	}
	return nil
}

// MarshalIndent writes the list as hepixvmitrust does: sorted keys, four
// spaces of indentation, a final newline.
func (l *List) MarshalIndent() ([]byte, error) {
	b, err := json.MarshalIndent(l, "", "    ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
