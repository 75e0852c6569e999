package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/spec"
)

// Action is what a plan does to one image.
type Action int

const (
	ActionOK Action = iota
	ActionFetch
	ActionReplace
	ActionRemove
)

var actionNames = [...]string{"ok", "fetch", "replace", "remove"}

func (a Action) String() string { return actionNames[a] }

func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// Item is the plan for one image.
type Item struct {
	Image   string        `json:"image"`
	Action  Action        `json:"action"`
	Code    ReasonCode    `json:"code"`
	Reason  string        `json:"reason"`
	Digest  digest.Digest `json:"digest"`
	Size    int64         `json:"size"`
	Install string        `json:"install"`
	// Sources lists where bytes will be sought, in order; the first is
	// where they are expected to come from.
	Sources []string `json:"sources,omitempty"`
	// Staged bytes already in the store (a resumed fetch, or a complete blob).
	Staged int64 `json:"staged"`
	// InstallSize and InstallAllocated are the installed file's apparent
	// size and the bytes it takes on disk (less for a sparse raw disk);
	// zero when nothing is installed.
	InstallSize      int64 `json:"install_size,omitempty"`
	InstallAllocated int64 `json:"install_allocated,omitempty"`

	img     *spec.Image
	current *store.Record
	// blobOnly: the install is good but the store lost its blob (Verify):
	// fetch the blob, leave the installed file alone.
	blobOnly bool
	// hooksDue: the install is good but the hooks of this event failed at
	// an earlier apply; they run again.
	hooksDue string
}

// Plan is data: what Apply will do, rendered elsewhere.
type Plan struct {
	Items    []Item   `json:"images"`
	Warnings []string `json:"warnings,omitempty"`
	Problems Problems `json:"problems,omitempty"` // refused lists and the like: the run fails
	// ListExpires is when each trust's list in force expires.
	ListExpires map[string]time.Time `json:"-"`
}

// Count of items with the action.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, it := range p.Items {
		if it.Action == a {
			n++
		}
	}
	return n
}

// Changes reports whether applying the plan would change anything.
func (p *Plan) Changes() bool { return len(p.Items) > p.Count(ActionOK) }

// StageOnly makes p fetch into the store what it would install, and
// install, replace and remove nothing: what a peer server runs for a
// child that asks first. The host's own apply installs from the store.
func (p *Plan) StageOnly() {
	for i := range p.Items {
		it := &p.Items[i]
		switch {
		case it.Action == ActionRemove:
			it.Action, it.Reason = ActionOK, "left for the host's own apply (staging only)"
		case it.Action == ActionOK || it.Staged >= it.Size && it.Size > 0:
			it.Action = ActionOK
		default:
			it.blobOnly = true
		}
		it.hooksDue = ""
	}
}

// Summary is the one-line plan summary.
func (p *Plan) Summary() string {
	return fmt.Sprintf("Plan: %d to fetch, %d to replace, %d to remove.",
		p.Count(ActionFetch), p.Count(ActionReplace), p.Count(ActionRemove))
}

// Plan compares the spec with the store and the install paths.
func (e *Engine) Plan(ctx context.Context) (*Plan, error) {
	st, err := e.Store.LoadState()
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	images, held, err := e.resolve(ctx, p, st)
	if err != nil {
		return nil, err
	}
	for _, img := range images {
		held[img.Name] = true
		p.Items = append(p.Items, e.planImage(img, st))
	}
	for name, r := range st.Images {
		if !held[name] {
			r := r
			p.Items = append(p.Items, Item{Image: name, Action: ActionRemove, Code: ReasonNotInSpec, Reason: "no longer in the spec",
				Digest: r.Digest, Size: r.File.Size, Install: r.Install, current: &r})
		}
	}
	holdInUse(p.Items)
	sort.SliceStable(p.Items, func(i, j int) bool { return p.Items[i].Image < p.Items[j].Image })
	return p, nil
}

func (e *Engine) planImage(img *spec.Image, st *store.State) Item {
	it := Item{Image: img.Name, Digest: img.Digest, Size: img.Size, Install: img.Install, img: img}
	it.Sources = e.sourceNames(img)
	if r, ok := st.Images[img.Name]; ok {
		it.current = &r
	}
	it.Action, it.Code, it.Reason = e.decide(img, it.current, st)
	if it.Action == ActionOK && it.current != nil && it.current.HookPending != "" {
		it.hooksDue, it.Code = it.current.HookPending, ReasonHookPending
		it.Reason = fmt.Sprintf("the hooks after %s failed at an earlier apply; they run again", it.hooksDue)
	}
	if it.Action == ActionFetch || it.Action == ActionReplace {
		it.Staged = e.staged(img.Digest)
	}
	if it.current != nil {
		it.InstallSize, it.InstallAllocated = store.Allocation(img.Install)
	}
	return it
}

func (e *Engine) decide(img *spec.Image, cur *store.Record, st *store.State) (Action, ReasonCode, string) {
	if cur == nil {
		if _, err := os.Lstat(img.Install); err == nil {
			if r, owned := st.Owns(img.Install); owned {
				return ActionFetch, ReasonPathOwned, fmt.Sprintf("install path now belongs to image %q in the state", r.Name)
			}
			if _, err := store.LstatRegular(img.Install); errors.Is(err, store.ErrNotRegular) {
				return ActionFetch, ReasonNotRegular, fmt.Sprintf("install path is not a regular file, refused: %v", err)
			}
			return ActionFetch, ReasonForeignFile, "install path holds a file prestaged did not install: adopted if it matches, else refused"
		}
		return ActionFetch, ReasonNotInstalled, "not installed"
	}
	switch {
	case cur.Digest != img.Digest:
		return ActionReplace, ReasonNewDigest, fmt.Sprintf("new digest (installed %s)", cur.Digest.Short())
	case cur.Install != img.Install:
		return ActionReplace, ReasonPathMoved, fmt.Sprintf("install path moved from %s", cur.Install)
	case cur.InstallFormat != derivedFormat(img):
		return ActionReplace, ReasonFormatChanged, fmt.Sprintf("installed as %s, the spec asks for %s",
			formatName(cur.InstallFormat), formatName(derivedFormat(img)))
	}
	got, err := store.Identify(img.Install)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return ActionFetch, ReasonInstallMissing, "install path missing"
	case errors.Is(err, store.ErrNotRegular):
		return ActionReplace, ReasonNotRegular, fmt.Sprintf("install path is no longer the file prestaged installed, refused: %v", err)
	case err != nil:
		return ActionReplace, ReasonStatFailed, fmt.Sprintf("cannot stat install path: %v", err)
	case got != cur.File && img.OnChange == spec.OnChangeKeep:
		return ActionOK, ReasonChangedByConsumer, "changed by consumer; kept (on_change = \"keep\")"
	case !got.MTime.Equal(cur.File.MTime) || got.Size != cur.File.Size || got.Inode != cur.File.Inode:
		return ActionReplace, ReasonChanged, "installed file changed since verification (size, mtime or inode)"
	}
	return ActionOK, ReasonUnchanged, "installed and unchanged since verification"
}

// staged is how many bytes of d the store already holds.
func (e *Engine) staged(d digest.Digest) int64 {
	h, err := e.Store.Have(d) // the complete prefix, not a sparse file's length
	if err != nil {
		return 0
	}
	return h.Bytes
}

func (e *Engine) sourceNames(img *spec.Image) []string {
	var out []string
	for _, src := range img.Sources {
		names, err := e.Sources.Names(img, src)
		if err != nil {
			out = append(out, src.String()+" (unusable: "+err.Error()+")")
			continue
		}
		out = append(out, names...)
	}
	return out
}

// Describe is a human line for an item, used by the text renderers.
func (it Item) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %s: %s", it.Action, it.Image, it.Reason)
	if (it.Action == ActionFetch || it.Action == ActionReplace) && it.Staged == it.Size && it.Size > 0 {
		b.WriteString(" (verified blob already in the store)")
	} else if (it.Action == ActionFetch || it.Action == ActionReplace) && len(it.Sources) > 0 {
		fmt.Fprintf(&b, " (from %s", it.Sources[0])
		if len(it.Sources) > 1 {
			fmt.Fprintf(&b, ", then %s", strings.Join(it.Sources[1:], ", "))
		}
		b.WriteString(")")
	}
	return b.String()
}
