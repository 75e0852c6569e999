package engine

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/spec"
)

// resolve returns the images to converge (endorsed ones with their identity
// filled in from the accepted lists), and the names of installed images that
// must be left alone this run. Revoked images are planned as removals here.
func (e *Engine) resolve(ctx context.Context, p *Plan, st *store.State) ([]*spec.Image, map[string]bool, error) {
	held := map[string]bool{}
	var out []*spec.Image
	var end *Endorsements
	for _, img := range e.Spec.Images {
		if img.Trust == "" {
			out = append(out, img)
			continue
		}
		if end == nil {
			var err error
			if end, err = e.endorsements(ctx, p); err != nil {
				return nil, nil, err
			}
		}
		if r := e.endorsedImage(img, end, st, p, held); r != nil {
			out = append(out, r)
		}
	}
	if subscribes(e.Spec) {
		if end == nil {
			var err error
			if end, err = e.endorsements(ctx, p); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, e.subscribed(end, st, p, held)...)
	}
	return out, held, nil
}

func subscribes(s *spec.Spec) bool {
	for _, t := range s.Trusts {
		if t.Subscribe {
			return true
		}
	}
	return false
}

func (e *Engine) endorsements(ctx context.Context, p *Plan) (*Endorsements, error) {
	if e.Trust == nil {
		return nil, fmt.Errorf("spec has endorsed images but no trust resolver is configured")
	}
	end, err := e.Trust.Resolve(ctx, e.Spec)
	if err != nil {
		return nil, err
	}
	p.Warnings = append(p.Warnings, end.Warnings...)
	p.Problems = append(p.Problems, end.Problems...)
	p.ListExpires = end.Expires
	return end, nil
}

// endorsedImage resolves one endorsed image, or plans what to do with an
// installed copy its list no longer vouches for. An installed image that is
// held (no list in force, or revoked with on_revoke = "keep") stays in the
// plan as ok, so that plan and status still show it, with why it is held.
func (e *Engine) endorsedImage(img *spec.Image, end *Endorsements, st *store.State, p *Plan, held map[string]bool) *spec.Image {
	en, ok := end.Images[img.Name]
	cur, installed := st.Images[img.Name]
	switch {
	case !ok:
		// No list in force at all: keep what is installed, fetch nothing.
		held[img.Name] = true
		p.Problems.Add(&ImageError{Image: img.Name, Err: fmt.Errorf("no accepted image list for trust %q; nothing is fetched or removed: %w", img.Trust, ErrNoList)})
		if installed {
			p.Items = append(p.Items, heldItem(img.Name, cur, ReasonNoList, fmt.Sprintf("kept as installed: no accepted image list for trust %q", img.Trust)))
		}
		return nil
	case en.Revoked:
		held[img.Name] = true
		switch {
		case !installed:
			p.Warnings = append(p.Warnings, fmt.Sprintf("image %s: %s; not installed", img.Name, en.Reason))
		case en.Keep:
			p.Warnings = append(p.Warnings, fmt.Sprintf("image %s: %s; kept (on_revoke = \"keep\") but untrusted", img.Name, en.Reason))
			p.Items = append(p.Items, heldItem(img.Name, cur, ReasonUntrustedKept, "untrusted: "+en.Reason+"; kept (on_revoke = \"keep\")"))
		default:
			c := cur
			p.Items = append(p.Items, Item{Image: img.Name, Action: ActionRemove, Code: ReasonRevoked, Reason: en.Reason,
				Digest: cur.Digest, Size: cur.File.Size, Install: cur.Install, current: &c})
		}
		return nil
	}
	r := *img
	r.Digest, r.Size, r.EndorsedURI, r.EndorsedFields = en.Digest, en.Size, en.URI, en.Fields
	if r.Format == "" {
		r.Format = listFormat(en.Format)
	}
	return &r
}

// heldItem shows an installed image that this run leaves as it is.
func heldItem(name string, cur store.Record, code ReasonCode, reason string) Item {
	c := cur
	return Item{Image: name, Action: ActionOK, Code: code, Reason: reason, Digest: cur.Digest, Size: cur.File.Size,
		Install: cur.Install, current: &c}
}

// subscribed adds the images of each subscribing trust's list that no image
// block names, installed at <install_dir>/<dc:identifier> with the trust's
// defaults, and plans what to do with those it installed that the list
// dropped: revoked as for named images.
func (e *Engine) subscribed(end *Endorsements, st *store.State, p *Plan, held map[string]bool) []*spec.Image {
	var out []*spec.Image
	for _, t := range e.Spec.Trusts {
		if !t.Subscribe {
			continue
		}
		named := map[string]bool{}
		for _, img := range e.Spec.Images {
			if img.Trust == t.Name {
				named[img.ID] = true
			}
		}
		ids := map[string]bool{}
		sub, inForce := end.Subscriptions[t.Name]
		for id := range sub.Images {
			ids[id] = true
		}
		for _, r := range st.Images {
			if r.Trust == t.Name && r.Name == subscriptionName(t, r.ID) {
				ids[r.ID] = true // installed by the subscription: still planned, perhaps revoked
			}
		}
		for _, id := range slices.Sorted(maps.Keys(ids)) {
			if named[id] {
				continue
			}
			if !validID(id) {
				p.Problems.Add(&ImageError{Image: subscriptionName(t, id), Err: fmt.Errorf("dc:identifier %q of trust %s cannot be a file name in %s; not installed", id, t.Name, t.InstallDir)})
				continue
			}
			img := subscriptionImage(t, id)
			if en, ok := sub.Images[id]; ok {
				end.Images[img.Name] = en
			} else if inForce {
				reason := fmt.Sprintf("revoked by endorser: %s is not (or no longer) in the image list of trust %s (hv:version %s)", id, t.Name, sub.Version)
				if !sub.Expired.IsZero() {
					reason = fmt.Sprintf("image list expired (trust %s, dc:date:expires %s)", t.Name, sub.Expired.UTC().Format(time.RFC3339))
				}
				end.Images[img.Name] = Endorsed{Revoked: true, Reason: reason, Keep: t.OnRevoke == spec.OnRevokeKeep}
			}
			if r := e.endorsedImage(img, end, st, p, held); r != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

// subscriptionName is the name a subscription's image goes by in the state,
// logs and --json: "<trust>/<dc:identifier>".
func subscriptionName(t *spec.Trust, id string) string { return t.Name + "/" + id }

func subscriptionImage(t *spec.Trust, id string) *spec.Image {
	return &spec.Image{Name: subscriptionName(t, id), Path: id, Install: filepath.Join(t.InstallDir, id),
		Sources: t.Sources, Trust: t.Name, ID: id, InstallOptions: t.Defaults, Range: t.Range}
}

// validID: a list's identifier names one file in the install directory.
func validID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, "/\x00")
}
