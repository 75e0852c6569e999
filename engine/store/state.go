package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/google/renameio/v2"
	"github.com/prestaged/prestaged/digest"
)

// Record is one image prestaged installed.
type Record struct {
	Name      string        `json:"name"`
	Digest    digest.Digest `json:"digest"`
	Install   string        `json:"install"`
	File      FileID        `json:"file"` // as seen right after verification
	Installed time.Time     `json:"installed"`
	Trust     string        `json:"trust,omitempty"`
	ID        string        `json:"id,omitempty"`
	Version   string        `json:"version,omitempty"`
	// Format is the published file's format (raw, qcow2, zst, ...).
	Format string `json:"format,omitempty"`
	// InstallFormat and InstallDigest describe an install converted from
	// the blob (File.Size is its size); empty when it is the blob's bytes.
	InstallFormat string        `json:"install_format,omitempty"`
	InstallDigest digest.Digest `json:"install_digest,omitzero"`
	// OnChange is the image's on_change when it was installed: a "keep"
	// install a consumer changed is never removed.
	OnChange string `json:"on_change,omitempty"`
	// HookPending is the event whose hooks failed: they run again at the
	// next apply.
	HookPending string `json:"hook_pending,omitempty"`
}

// State is what prestaged installed, by image name. It is the only record
// of ownership: prestaged removes nothing that is not in it.
type State struct {
	Images map[string]Record `json:"images"`
}

type stateFile struct {
	Version int      `json:"version"`
	Images  []Record `json:"images"`
}

// maxState bounds state.json: 5,000 records take about 2 MiB.
const maxState = 64 << 20

// LoadState reads state.json; a missing file is an empty state.
func (s *Store) LoadState() (*State, error) {
	st := &State{Images: map[string]Record{}}
	b, err := readRegular(s.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if len(b) > maxState {
		return nil, fmt.Errorf("state %s: larger than %d MiB; move the file away to start afresh", s.statePath(), maxState>>20)
	}
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("state %s: %w", s.statePath(), err)
	}
	for i, r := range f.Images {
		if r.Name == "" || r.Digest.IsZero() || r.Install == "" {
			return nil, fmt.Errorf("state %s: record %d lacks its name, digest or install path; move the file away to start afresh", s.statePath(), i+1)
		}
		st.Images[r.Name] = r
	}
	return st, nil
}

// SaveState writes state.json atomically (temp file, fsync, rename).
func (s *Store) SaveState(st *State) error {
	f := stateFile{Version: 1}
	for _, r := range st.Images {
		f.Images = append(f.Images, r)
	}
	sort.Slice(f.Images, func(i, j int) bool { return f.Images[i].Name < f.Images[j].Name })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(s.statePath(), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// Owns reports whether path is recorded as installed by prestaged, and as
// which image.
func (st *State) Owns(path string) (Record, bool) {
	for _, r := range st.Images {
		if r.Install == path {
			return r, true
		}
	}
	return Record{}, false
}
