package report

import (
	"context"
	"errors"

	"github.com/prestaged/prestaged/engine"
)

// Reason says why an apply failed: the label of
// prestaged_apply_failure_reason, one of Reasons, so that an alert can
// name the cause without the label set growing.
type Reason string

// The reasons, in the order the metrics file lists them; docs/json.md's
// metrics section documents each.
const (
	ReasonNone        Reason = ""            // the run succeeded
	ReasonSpec        Reason = "spec"        // the spec is missing, unreadable or invalid
	ReasonStore       Reason = "store"       // the store could not be opened
	ReasonLock        Reason = "lock"        // another apply held the store lock past --wait
	ReasonSpace       Reason = "space"       // the free-space preflight refused the plan
	ReasonTrust       Reason = "trust"       // a trust's image list was refused
	ReasonImages      Reason = "images"      // one image or more failed
	ReasonInterrupted Reason = "interrupted" // SIGINT or SIGTERM stopped the run
	ReasonInternal    Reason = "internal"    // any other error that stopped the run
)

// Reasons is every reason a failed run can have.
var Reasons = []Reason{ReasonSpec, ReasonStore, ReasonLock, ReasonSpace, ReasonTrust, ReasonImages, ReasonInterrupted, ReasonInternal}

// ReasonOf is why a run failed: stage when err stopped it before it could
// plan (reading the spec, opening the store, taking its lock), the kind of err after that,
// else what the plan and result say; ReasonNone for a success.
func ReasonOf(stage Reason, err error, res *engine.Result, p *engine.Plan) Reason {
	switch {
	case err == nil && res != nil && res.Failed > 0:
		return ReasonImages
	case err == nil && p != nil && len(p.Problems) > 0:
		return ReasonTrust
	case err == nil && res != nil:
		return ReasonNone
	case errors.Is(err, context.Canceled):
		return ReasonInterrupted
	case errors.Is(err, engine.ErrNoSpace):
		return ReasonSpace
	case stage != ReasonNone:
		return stage
	}
	return ReasonInternal
}
