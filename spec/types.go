// Package spec turns an HCL file into a validated Spec. It owns the HCL
// schema, the diagnostics (each with a source range, all reported at once)
// and the resolution of relative paths against the spec file's directory.
// It does no I/O beyond reading the file and looking up owner and group
// names, and imports nothing of prestaged but the leaf package digest.
package spec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/prestaged/prestaged/digest"
)

// DefaultPath is where packaged hosts keep their spec.
const DefaultPath = "/etc/prestaged/spec.hcl"

// Defaults for attributes that may be omitted.
const (
	DefaultStore        = "/var/lib/prestaged"
	DefaultListen       = ":7946"
	DefaultStallTimeout = 30 * time.Second
	DefaultParallel     = 2
)

// Spec is one host's validated desired state. Paths are absolute.
type Spec struct {
	Filename string // the file it was read from
	Store    string // absolute path of the store directory

	// StallTimeout is how long a transfer may go without a byte, or without
	// 64 KiB (fetchers.StallFloor), before it is aborted and retried or
	// handed to the next source (`stall_timeout`).
	StallTimeout time.Duration
	// Parallel bounds how many images are fetched at once (`parallel`).
	Parallel int

	Peer    *Peer // nil when the spec has no peer block
	Mirrors []*Mirror
	Trusts  []*Trust
	Torrent *Torrent // nil when the spec has no torrent block
	Images  []*Image
	Hooks   []*Hook // in spec order
}

// Peer is this host's place in the distribution tree.
type Peer struct {
	Listen  string
	Parents []string // explicit parents, or those computed from Hosts/Fanout/Self

	Hosts  []string // optional: the whole tree's host list (computed topology)
	Fanout int      // children per host in the computed tree
	Self   string   // this host's entry in Hosts

	UploadLimit Rate // 0: unlimited
	MaxChildren int  // concurrent children served; 0: unlimited
	Pipelined   bool // false: store-and-forward (fetch only complete images)

	Range hcl.Range
}

// Mirror is an HTTP, HTTPS or file mirror.
type Mirror struct {
	Name  string
	URL   string // ends with "/"
	Range hcl.Range
}

// Trust is a signed HEPiX image list and whom it must be signed by.
type Trust struct {
	Name       string
	List       string
	CADir      string
	EndorserDN string
	EndorserCA string
	ListID     string
	OnRevoke   string // "remove" (default) or "keep"
	AllowSHA1  bool
	CRL        string // CRLRequired (default), CRLOptional or CRLOff
	// Subscribe: every image of the accepted list is installed at
	// InstallDir/<dc:identifier>, with Defaults, unless an image block
	// names its id; an image the list drops is removed (on_revoke).
	Subscribe  bool
	InstallDir string
	Defaults   InstallOptions
	Sources    []Source // of the subscription's images: the default for an endorsed image
	Range      hcl.Range
}

// Torrent configures the BitTorrent swarm source.
type Torrent struct {
	Tracker       string
	Listen        string
	PeersFromTree bool
	// WebSeed: the swarm takes the pieces no peer holds from the image's
	// mirrors, each piece read by one host (web_seed, default true).
	WebSeed bool
	Range   hcl.Range
}

// Image is one image this host must hold.
type Image struct {
	Name string
	// Digest and Size are zero for an image taken from a trust list until
	// the engine resolves it against the accepted list.
	Digest  digest.Digest
	Size    int64
	Path    string // relative to each mirror's URL; defaults to Name
	Install string // absolute
	Sources []Source
	Trust   string // name of a trust block, or ""
	ID      string // dc:identifier in that list

	// EndorsedURI is the list's hv:uri for the image, set by the engine
	// when it resolves an endorsed image (SourceEndorsed fetches from it).
	EndorsedURI string
	// EndorsedFields are the list's keys of the image, set likewise, for
	// the environment of hooks.
	EndorsedFields map[string]string

	TorrentURL string // optional .torrent for the swarm source
	InfoHash   string // optional BitTorrent v1 info-hash (40 hex)

	InstallOptions // how the verified image lands at Install

	Range hcl.Range // the block's definition range, for messages
}

// InstallOptions say how a verified image lands at its install path.
type InstallOptions struct {
	// Format is what the published file is (Formats); "" leaves it to the
	// endorsed list's hv:format, else the file name's extension, else raw.
	Format string
	// InstallFormat is what lands at Install: FormatRaw, FormatQCOW2 or
	// InstallPublished (the published bytes as they are, the default).
	InstallFormat string
	Owner, Group  string // as written; "" when not given
	UID, GID      int    // Owner and Group resolved, when given
	Mode          uint32 // permission bits, DefaultMode unless given
	// OnChange is what apply does with an install a consumer changed:
	// OnChangeRestore (the default) or OnChangeKeep.
	OnChange string
}

// SourceKind says where bytes may come from.
type SourceKind int

const (
	SourceParents SourceKind = iota + 1
	SourceMirror
	SourceTorrent
	// SourceEndorsed is the hv:uri an endorsed list gives for the image.
	SourceEndorsed
)

// Source is one entry of an image's `sources`.
type Source struct {
	Kind SourceKind
	Name string // the mirror's name for SourceMirror
}

func (s Source) String() string {
	switch s.Kind {
	case SourceParents:
		return "parents"
	case SourceMirror:
		return "mirror." + s.Name
	case SourceTorrent:
		return "torrent"
	case SourceEndorsed:
		return "endorsed"
	}
	return "unknown"
}

// Rate is a bandwidth in bits per second, parsed from "900Mbit", "1Gbit",
// "100Mbps" (bits) or "50MB/s" (bytes).
type Rate int64

// BytesPerSecond converts a Rate for rate limiters.
func (r Rate) BytesPerSecond() int64 { return int64(r) / 8 }
