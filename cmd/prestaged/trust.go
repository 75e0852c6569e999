package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/engine/trust"
	"github.com/prestaged/prestaged/spec"
)

// newTrust wires the image-list resolver for endorsed images, or nil when
// the spec has no trust blocks.
func newTrust(s *spec.Spec, st *store.Store) engine.TrustResolver {
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
func (r trustResolver) Resolve(ctx context.Context, s *spec.Spec) (*engine.Endorsements, error) {
	end := &engine.Endorsements{Images: map[string]engine.Endorsed{}}
	now := time.Now()
	for _, t := range s.Trusts {
		acc, warns, err := trust.Resolve(ctx, t, r.listsDir, now, nil)
		end.Warnings = append(end.Warnings, warns...)
		if err != nil {
			end.Problems = append(end.Problems, fmt.Errorf("trust %s: %w", t.Name, err))
		}
		for _, img := range s.Images {
			if img.Trust == t.Name {
				if en, ok := endorsed(img, t, acc, err); ok {
					end.Images[img.Name] = en
				}
			}
		}
	}
	return end, nil
}

// endorsed resolves one image against its accepted list. With no list in
// force it reports nothing (the engine then keeps what is installed), except
// when the last accepted list expired: that revokes.
func endorsed(img *spec.Image, t *spec.Trust, acc *trust.Accepted, err error) (engine.Endorsed, bool) {
	keep := t.OnRevoke == spec.OnRevokeKeep
	if acc == nil {
		if errors.Is(err, trust.ErrExpired) {
			return engine.Endorsed{Revoked: true, Reason: "image list expired", Keep: keep}, true
		}
		return engine.Endorsed{}, false
	}
	im, ok := acc.Images[img.ID]
	if !ok {
		return engine.Endorsed{Revoked: true, Reason: "revoked by endorser: no longer in the image list", Keep: keep}, true
	}
	return engine.Endorsed{Digest: im.Digest(), Size: im.Size, URI: im.URI, Version: im.Version}, true
}
