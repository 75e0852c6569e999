package engine

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ReasonCode says why a plan item has its action, in a form that scripts
// and status can test; Item.Reason is the same for a human, with details.
// The strings are stable.
type ReasonCode string

const (
	ReasonNotInstalled   ReasonCode = "not-installed"
	ReasonPathOwned      ReasonCode = "install-path-owned"       // the path is another image's
	ReasonForeignFile    ReasonCode = "install-path-foreign"     // adopted if it matches, else refused
	ReasonNotRegular     ReasonCode = "install-path-not-regular" // a symlink, FIFO, device or directory: refused
	ReasonNewDigest      ReasonCode = "new-digest"
	ReasonPathMoved      ReasonCode = "install-path-moved"
	ReasonFormatChanged  ReasonCode = "install-format-changed" // install_format, or the published format
	ReasonInstallMissing ReasonCode = "install-missing"
	ReasonStatFailed     ReasonCode = "install-unreadable"
	ReasonChanged        ReasonCode = "install-changed" // size, mtime or inode
	ReasonUnchanged      ReasonCode = "unchanged"
	// ReasonChangedByConsumer: on_change = "keep", and the install changed
	// since prestaged made it: left alone.
	ReasonChangedByConsumer ReasonCode = "changed-by-consumer"
	// ReasonInUse: a replace or remove a process holding the file open
	// defers; the image is not converged until it is closed.
	ReasonInUse ReasonCode = "in-use"
	// ReasonHookPending: installed, but the hooks of its last event failed.
	ReasonHookPending    ReasonCode = "hook-pending"
	ReasonNotInSpec      ReasonCode = "not-in-spec"
	ReasonRevoked        ReasonCode = "revoked"
	ReasonUntrustedKept  ReasonCode = "untrusted-kept"  // revoked, on_revoke = "keep"
	ReasonNoList         ReasonCode = "no-list"         // kept as installed: no list in force
	ReasonContentCorrupt ReasonCode = "content-corrupt" // verify: the installed file's hash
	ReasonBlobMissing    ReasonCode = "blob-missing"    // verify: fetched again to serve it
)

// Status is what Apply did to one image. The strings are stable.
type Status string

const (
	StatusOK       Status = "ok"
	StatusFetched  Status = "fetched"
	StatusReplaced Status = "replaced"
	StatusRemoved  Status = "removed"
	StatusAdopted  Status = "adopted"
	StatusFailed   Status = "failed"
)

// Problems are what makes a run fail although the plan could be made
// (refused image lists and the like). They stay errors, so that errors.Is
// works, until they are rendered; in JSON each is its message.
type Problems []error

// Add appends a problem.
func (p *Problems) Add(err error) { *p = append(*p, err) }

// Addf appends a problem made as fmt.Errorf would.
func (p *Problems) Addf(format string, args ...any) { p.Add(fmt.Errorf(format, args...)) }

func (p Problems) MarshalJSON() ([]byte, error) {
	s := make([]string, len(p))
	for i, err := range p {
		s[i] = err.Error()
	}
	return json.Marshal(s)
}

// UnmarshalJSON reads problems back as plain errors with their messages.
func (p *Problems) UnmarshalJSON(b []byte) error {
	var s []string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*p = nil
	for _, m := range s {
		p.Add(errors.New(m))
	}
	return nil
}

// UnmarshalText reads an Action back from its name.
func (a *Action) UnmarshalText(b []byte) error {
	for i, name := range actionNames {
		if name == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", b)
}

// ErrNoList: an endorsed image has no accepted image list in force.
var ErrNoList = errors.New("no image list in force")

// ImageError is an error about one image. Its message names the image
// once, at the front.
type ImageError struct {
	Image string
	Err   error
}

func (e *ImageError) Error() string { return "image " + e.Image + ": " + e.Err.Error() }
func (e *ImageError) Unwrap() error { return e.Err }
