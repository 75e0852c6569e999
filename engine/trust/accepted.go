package trust

import (
	"time"

	"github.com/prestaged/prestaged/digest"
)

// Origin says where the list in force came from.
type Origin int

const (
	// OriginFetched: a new or changed list was fetched, verified and remembered.
	OriginFetched Origin = iota + 1
	// OriginNotModified: the server answered 304; the remembered copy was re-verified.
	OriginNotModified
	// OriginRemembered: the list could not be fetched, or the fetched list
	// was refused; the last accepted copy, re-verified, stays in force.
	OriginRemembered
)

func (o Origin) String() string {
	switch o {
	case OriginFetched:
		return "fetched"
	case OriginNotModified:
		return "not modified"
	case OriginRemembered:
		return "remembered"
	}
	return "unknown"
}

// Accepted is the endorsed list in force for a trust block.
type Accepted struct {
	Trust    string // the trust block's name
	URL      string // where the list is fetched from
	ListID   string // dc:identifier
	Title    string
	Version  string // hv:version
	Created  time.Time
	Expires  time.Time
	Endorser string // the signer's DN, OpenSSL one-line form
	Issuer   string // the signer's CA, OpenSSL one-line form
	Origin   Origin
	Images   map[string]Image // by dc:identifier
}

// Image is one endorsed image.
type Image struct {
	ID      string // dc:identifier
	Title   string
	URI     string // hv:uri: one more source after the spec's mirrors
	Version string
	Size    int64
	SHA512  digest.Digest
	SHA256  digest.Digest // zero when the list has no sl:checksum:sha256
	Format  string        // hv:format as written
	// Fields are every key of the list's hv:image as text, and the list's
	// own dc:identifier as il:dc:identifier, for hooks.
	Fields map[string]string
}

// Digest is how the store addresses the image: sha256 when the list gives
// it, else sha512.
func (im Image) Digest() digest.Digest {
	if !im.SHA256.IsZero() {
		return im.SHA256
	}
	return im.SHA512
}

// accept indexes a verified list. Validate has checked every image's
// digests, so they parse.
func accept(trust, url string, v *Verified, origin Origin) *Accepted {
	l := v.List
	a := &Accepted{
		Trust: trust, URL: url, ListID: l.ID, Title: l.Title, Version: l.Version,
		Created: l.Created, Expires: l.Expires, Endorser: v.SignerDN, Issuer: v.IssuerDN,
		Origin: origin, Images: make(map[string]Image, len(l.Images)),
	}
	for i := range l.Images {
		im := &l.Images[i]
		sha512, sha256, _ := im.Digests()
		a.Images[im.ID] = Image{
			ID: im.ID, Title: im.Title, URI: im.URI, Version: im.Version,
			Size: im.Size, SHA512: sha512, SHA256: sha256, Format: im.Format,
			Fields: im.Fields(l.ID),
		}
	}
	return a
}
