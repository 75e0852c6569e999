package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/engine/trust"
	"github.com/prestaged/prestaged/spec"
)

// ListTrust is the resolver of endorsed images from the image lists of the
// spec's trust blocks, remembering accepted lists in st; nil when the spec
// has no trust blocks.
func ListTrust(s *spec.Spec, st *store.Store) TrustResolver {
	if len(s.Trusts) == 0 {
		return nil
	}
	return trustResolver{listsDir: st.ListsDir()}
}

type trustResolver struct{ listsDir string }

// Resolve fetches and verifies every trust block's list once and says, for
// each endorsed image, what it is or why it is revoked. A refused list is a
// problem of the run but revokes nothing: the last accepted list stays in
// force until it expires.
func (r trustResolver) Resolve(ctx context.Context, s *spec.Spec) (*Endorsements, error) {
	end := &Endorsements{Images: map[string]Endorsed{}}
	now := time.Now()
	for _, t := range s.Trusts {
		if t.CRL == spec.CRLOff {
			end.Warnings = append(end.Warnings, fmt.Sprintf(
				"trust %s: crl = \"off\": certificates are not checked against CRLs, so a revoked endorser or CA is accepted", t.Name))
		}
		acc, warns, err := trust.Resolve(ctx, t, r.listsDir, now, nil)
		end.Warnings = append(end.Warnings, warns...)
		if err != nil {
			end.Problems = append(end.Problems, fmt.Errorf("trust %s: %w", t.Name, err))
		}
		if acc != nil {
			if end.Expires == nil {
				end.Expires = map[string]time.Time{}
			}
			end.Expires[t.Name] = acc.Expires
		}
		var expired time.Time
		if acc == nil {
			expired = r.expiredAt(t.Name, now)
		}
		for _, img := range s.Images {
			if img.Trust == t.Name {
				if en, ok := endorsed(img, t, acc, expired); ok {
					end.Images[img.Name] = en
				}
			}
		}
		if t.Subscribe {
			end.subscribe(t, acc, expired)
		}
	}
	return end, nil
}

// expiredAt is when the last accepted list of a trust block expired, or
// zero when there is none or it has not expired. Only this revokes for
// expiry: a fetched list that is refused as expired (perhaps an old one
// replayed, perhaps forged) must not make hosts delete images.
func (r trustResolver) expiredAt(name string, now time.Time) time.Time {
	last, err := trust.LoadRemembered(r.listsDir, name)
	if err != nil || last == nil || now.Before(last.Expires) {
		return time.Time{}
	}
	return last.Expires
}

// endorsed resolves one image against its accepted list. With no list in
// force it reports nothing (the engine then keeps what is installed), except
// when the last accepted list expired: that revokes.
func endorsed(img *spec.Image, t *spec.Trust, acc *trust.Accepted, expired time.Time) (Endorsed, bool) {
	keep := t.OnRevoke == spec.OnRevokeKeep
	if acc == nil {
		if !expired.IsZero() {
			reason := fmt.Sprintf("image list expired (trust %s, dc:date:expires %s)", t.Name, expired.UTC().Format(time.RFC3339))
			return Endorsed{Revoked: true, Reason: reason, Keep: keep}, true
		}
		return Endorsed{}, false
	}
	im, ok := acc.Images[img.ID]
	if !ok {
		reason := fmt.Sprintf("revoked by endorser: %s is not (or no longer) in the image list of trust %s (hv:version %s)", img.ID, t.Name, acc.Version)
		return Endorsed{Revoked: true, Reason: reason, Keep: keep}, true
	}
	return Endorsed{Digest: im.Digest(), Size: im.Size, URI: im.URI, Version: im.Version, Format: im.Format, Fields: im.Fields}, true
}

// subscribe records what a subscribing trust's list holds: every image of
// acc, or, with no list in force, nothing (when the last one expired, that
// revokes them all).
func (end *Endorsements) subscribe(t *spec.Trust, acc *trust.Accepted, expired time.Time) {
	if end.Subscriptions == nil {
		end.Subscriptions = map[string]Subscription{}
	}
	sub := Subscription{}
	switch {
	case acc != nil:
		sub.Images = map[string]Endorsed{}
		for id, im := range acc.Images {
			sub.Images[id] = Endorsed{Digest: im.Digest(), Size: im.Size, URI: im.URI, Version: im.Version, Format: im.Format, Fields: im.Fields}
		}
		sub.Version = acc.Version
	case !expired.IsZero():
		sub.Images, sub.Expired = map[string]Endorsed{}, expired
	default:
		return // no list in force: what is installed stays
	}
	end.Subscriptions[t.Name] = sub
}
