// Package engine reconciles a host with its spec: Plan compares the spec
// with the store and the install paths, Apply executes a plan with bounded
// parallelism, Verify rehashes. It is level-based: every call re-reads the
// real state, and a second Apply on a converged host does nothing.
//
// engine imports spec, fetchers, digest and its own sub-packages; it never
// chooses concrete fetchers: it is handed Sources (package sources).
package engine

import (
	"context"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/spec"
)

// Sources gives, for one of an image's sources, the named fetchers that
// source stands for: several (one per parent) or none (a source that does
// not apply to this host).
type Sources interface {
	// Names are the fetchers' names, in order, for Plan: no side effects
	// (no socket opened, no client started).
	Names(img *spec.Image, src spec.Source) ([]string, error)
	// Fetchers builds them for Apply, already wrapped with retry and stall
	// detection as their kind needs.
	Fetchers(img *spec.Image, src spec.Source) ([]fetchers.Named, error)
}

// SourcesFunc is Sources from a function that builds fetchers without side
// effects (fakes in tests): Names builds them and keeps the names.
type SourcesFunc func(img *spec.Image, src spec.Source) ([]fetchers.Named, error)

func (f SourcesFunc) Fetchers(img *spec.Image, src spec.Source) ([]fetchers.Named, error) {
	return f(img, src)
}

func (f SourcesFunc) Names(img *spec.Image, src spec.Source) ([]string, error) {
	named, err := f(img, src)
	names := make([]string, len(named))
	for i, n := range named {
		names[i] = n.Name
	}
	return names, err
}

// Reporter receives what Apply does, for progress displays and logs. Its
// methods are called from several goroutines.
type Reporter interface {
	// Begin: an image starts transferring; progress reports its complete
	// bytes so far and may be polled until End.
	Begin(image string, size, resumed int64, progress func() int64)
	// Event: something an operator should see in the log.
	Event(image, msg string)
	// End: the image is done, whatever the outcome.
	End(o Outcome)
}

// Engine reconciles one host.
type Engine struct {
	Spec     *spec.Spec
	Store    *store.Store
	Sources  Sources
	Reporter Reporter
	// Trust resolves endorsed images; nil when the spec has none.
	Trust TrustResolver
	Now   func() time.Time
	// Committed, if set, is called when a fetched image's blob is in the
	// store, its digest verified, before it is installed, with the names of
	// the sources that sent its bytes: a source that learned something
	// about those bytes (a swarm's metainfo) may keep it for serve, which
	// would otherwise derive it again.
	Committed func(img *spec.Image, b store.Blob, sources []string)
}

// TrustResolver fills in the digest, size and endorsed URL of images that
// come from signed image lists, and says which installed ones are revoked.
type TrustResolver interface {
	Resolve(ctx context.Context, s *spec.Spec) (*Endorsements, error)
}

// Endorsements is what the accepted image lists say.
type Endorsements struct {
	// Images by spec image name: resolved identity.
	Images map[string]Endorsed
	// Problems are refusals and warnings to report; a refused list does
	// not revoke anything (the last accepted one stays in force).
	Problems []error
	Warnings []string
	// Subscriptions by trust name, for trusts that subscribe and have a
	// list in force (or whose last list expired).
	Subscriptions map[string]Subscription
	// Expires is when each trust's list in force expires.
	Expires map[string]time.Time
}

// Subscription is what a subscribing trust's list endorses.
type Subscription struct {
	Images  map[string]Endorsed // by dc:identifier
	Version string              // the list's hv:version
	Expired time.Time           // the last list expired then: everything is revoked
}

// Endorsed is one image's identity according to its list.
type Endorsed struct {
	Digest  digest.Digest
	Size    int64
	URI     string
	Version string
	Format  string            // hv:format as the list writes it ("QCOW2", "raw", ...)
	Fields  map[string]string // the list's hv:image, key by key (trust.Image.Fields)
	// Revoked: the image left its list, or the list expired; Reason says which.
	Revoked bool
	Reason  string
	Keep    bool // on_revoke = "keep"
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

type nopReporter struct{}

func (nopReporter) Begin(string, int64, int64, func() int64) {}
func (nopReporter) Event(string, string)                     {}
func (nopReporter) End(Outcome)                              {}

func (e *Engine) reporter() Reporter {
	if e.Reporter == nil {
		return nopReporter{}
	}
	return e.Reporter
}
