package spec

import (
	"fmt"
	"os/user"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Formats of a published image (`format`): disk formats and compressions.
const (
	FormatRaw   = "raw"
	FormatQCOW2 = "qcow2"
	FormatVMDK  = "vmdk"
	FormatOVA   = "ova"
	FormatGzip  = "gz"
	FormatXZ    = "xz"
	FormatZstd  = "zst"
	FormatBzip2 = "bz2"
)

// Formats lists the values of `format`.
var Formats = []string{FormatRaw, FormatQCOW2, FormatVMDK, FormatOVA, FormatGzip, FormatXZ, FormatZstd, FormatBzip2}

// InstallPublished, the default `install_format`, installs the published
// bytes as they are; InstallFormats lists every value.
const InstallPublished = "published"

// InstallFormats are the values of `install_format`.
var InstallFormats = []string{FormatRaw, FormatQCOW2, InstallPublished}

// Values of `on_change`: what apply does with an install a consumer changed.
const (
	OnChangeRestore = "restore" // install the verified image again (the default)
	OnChangeKeep    = "keep"    // leave it, and never remove it
)

// DefaultMode is an install's mode when the image gives none.
const DefaultMode = 0o644

// Compressed says whether format is a compression rather than a disk
// format.
func Compressed(format string) bool {
	return format == FormatGzip || format == FormatXZ || format == FormatZstd || format == FormatBzip2
}

// FormatOfName is the format a file name's extension says, "" when it says
// none: "ubuntu.qcow2" is qcow2, "ubuntu.img.gz" gz.
func FormatOfName(name string) string {
	ext := strings.TrimPrefix(path.Ext(name), ".")
	switch ext {
	case "img", "raw":
		return FormatRaw
	case "gzip":
		return FormatGzip
	case "zstd":
		return FormatZstd
	}
	if slices.Contains(Formats, ext) {
		return ext
	}
	return ""
}

// InnerFormat is the disk format inside a compressed file, by the
// extension under the compression's: "x.qcow2.zst" holds qcow2, and
// anything else raw.
func InnerFormat(name string) string {
	f := FormatOfName(strings.TrimSuffix(name, path.Ext(name)))
	if f == "" || Compressed(f) || f == FormatOVA {
		return FormatRaw
	}
	return f
}

// rawInstall holds the attributes of InstallOptions, in an image block or
// in a trust's defaults block.
type rawInstall struct {
	Format        string   `hcl:"format,optional"`
	InstallFormat string   `hcl:"install_format,optional"`
	Owner         string   `hcl:"owner,optional"`
	Group         string   `hcl:"group,optional"`
	Mode          string   `hcl:"mode,optional"`
	OnChange      string   `hcl:"on_change,optional"`
	Body          hcl.Body `hcl:",body"`
}

// defaultInstall is InstallOptions when nothing is written.
var defaultInstall = InstallOptions{InstallFormat: InstallPublished, Mode: DefaultMode, UID: -1, GID: -1, OnChange: OnChangeRestore}

// installOptions checks the install attributes raw and body write for
// what (`image "x"`, `trust "y" defaults`), over base.
func (v *validator) installOptions(raw rawInstall, body hcl.Body, what string, base InstallOptions) InstallOptions {
	img := &base
	if where := at(body, "on_change"); present(where) {
		modes := []string{OnChangeRestore, OnChangeKeep}
		if !slices.Contains(modes, raw.OnChange) {
			v.errorf(where, "Invalid on_change", "on_change of %s must be %q or %q, got %q.%s",
				what, OnChangeRestore, OnChangeKeep, raw.OnChange, suggest(raw.OnChange, modes))
		}
		img.OnChange = raw.OnChange
	}
	if where := at(body, "format"); present(where) {
		if !slices.Contains(Formats, raw.Format) {
			v.errorf(where, "Invalid format", "The format of %s must be one of %s, got %q.%s",
				what, quoted(Formats), raw.Format, suggest(raw.Format, Formats))
		}
		img.Format = raw.Format
	}
	if where := at(body, "install_format"); present(where) {
		if !slices.Contains(InstallFormats, raw.InstallFormat) {
			v.errorf(where, "Invalid install_format", "install_format of %s must be one of %s, got %q.%s",
				what, quoted(InstallFormats), raw.InstallFormat, suggest(raw.InstallFormat, InstallFormats))
		}
		img.InstallFormat = raw.InstallFormat
	}
	if where := at(body, "mode"); present(where) {
		m, err := strconv.ParseUint(raw.Mode, 8, 32)
		if err != nil || m > 0o7777 {
			v.errorf(where, "Invalid mode", "mode of %s is octal permission bits such as \"0640\", got %q.", what, raw.Mode)
		}
		img.Mode = uint32(m)
	}
	if where := at(body, "owner"); present(where) {
		id, err := lookupID(raw.Owner, lookupUser)
		if err != nil {
			v.errorf(where, "Unknown owner", "The owner of %s: %s.", what, err)
		}
		img.Owner, img.UID = raw.Owner, id
	}
	if where := at(body, "group"); present(where) {
		id, err := lookupID(raw.Group, lookupGroup)
		if err != nil {
			v.errorf(where, "Unknown group", "The group of %s: %s.", what, err)
		}
		img.Group, img.GID = raw.Group, id
	}
	return *img
}

// lookupID resolves a user or group given by name or number.
func lookupID(name string, lookup func(string) (string, error)) (int, error) {
	if name == "" {
		return -1, fmt.Errorf("it must not be empty")
	}
	if n, err := strconv.Atoi(name); err == nil {
		if n < 0 {
			return -1, fmt.Errorf("%d is not a valid id", n)
		}
		return n, nil
	}
	s, err := lookup(name)
	if err != nil {
		return -1, fmt.Errorf("%q is not known on this host (%v)", name, err)
	}
	return strconv.Atoi(s)
}

func lookupUser(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.Uid, nil
}

func lookupGroup(name string) (string, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return "", err
	}
	return g.Gid, nil
}
