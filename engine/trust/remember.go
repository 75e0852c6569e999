package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2"
)

// Remembered is the last accepted list of a trust block, kept in
// <listsDir>/<trust>.json. It is the reference for rollback protection and
// the copy used while the list cannot be fetched.
type Remembered struct {
	Trust         string    `json:"trust"`
	URL           string    `json:"url"`
	ListID        string    `json:"list_id"`
	Version       string    `json:"version"`
	ContentSHA256 string    `json:"content_sha256"` // of the signed bytes
	Expires       time.Time `json:"expires"`
	AcceptedAt    time.Time `json:"accepted_at"`
	ETag          string    `json:"etag,omitempty"`
	LastModified  string    `json:"last_modified,omitempty"`
	Raw           []byte    `json:"raw"` // the signed file as fetched (base64 in JSON)
}

// RememberedPath is where the last accepted list of a trust block lives.
func RememberedPath(listsDir, trust string) string {
	return filepath.Join(listsDir, trust+".json")
}

// LoadRemembered reads the last accepted list of a trust block; it returns
// nil and no error when none was accepted yet.
func LoadRemembered(listsDir, trust string) (*Remembered, error) {
	if err := checkTrustName(trust); err != nil {
		return nil, err
	}
	p := RememberedPath(listsDir, trust)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("remembered list %s: %w", p, err)
	}
	var r Remembered
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("remembered list %s is damaged (remove it to accept the next valid list): %w", p, err)
	}
	return &r, nil
}

// Save writes r atomically (temp file, fsync, rename) as the last accepted
// list of r.Trust.
func (r *Remembered) Save(listsDir string) error {
	if err := checkTrustName(r.Trust); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(listsDir, 0o755); err != nil {
		return fmt.Errorf("remember list of trust %q: %w", r.Trust, err)
	}
	p := RememberedPath(listsDir, r.Trust)
	if err := renameio.WriteFile(p, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("remember list of trust %q: %w", r.Trust, err)
	}
	return nil
}

// remember builds the record of a newly accepted list.
func remember(trust, url string, v *Verified, etag, lastModified string, now time.Time) *Remembered {
	return &Remembered{
		Trust: trust, URL: url,
		ListID: v.List.ID, Version: v.List.Version, ContentSHA256: v.ContentSHA256,
		Expires: v.List.Expires, AcceptedAt: now.UTC(),
		ETag: etag, LastModified: lastModified, Raw: v.Raw,
	}
}

// checkTrustName keeps a trust block's name from naming a path elsewhere.
func checkTrustName(trust string) error {
	if trust == "" || trust == "." || trust == ".." || filepath.Base(trust) != trust {
		return fmt.Errorf("trust name %q cannot name a file in the lists directory", trust)
	}
	return nil
}
