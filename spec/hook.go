package spec

import (
	"path/filepath"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
)

type rawHook struct {
	Name     string         `hcl:"name,label"`
	NameAt   hcl.Range      `hcl:"name,label_range"`
	Command  hcl.Expression `hcl:"command"`
	On       hcl.Expression `hcl:"on,optional"`
	Timeout  string         `hcl:"timeout,optional"`
	Body     hcl.Body       `hcl:",body"`
	DefRange hcl.Range      `hcl:",def_range"`
}

// Events a hook runs after (`on`).
const (
	EventInstall = "install" // an image appeared at its install path
	EventReplace = "replace" // another version replaced it
	EventRemove  = "remove"  // prestaged removed it
)

// Events lists the values of a hook's `on`, its default.
var Events = []string{EventInstall, EventReplace, EventRemove}

// DefaultHookTimeout bounds a hook that gives no timeout.
const DefaultHookTimeout = 60 * time.Second

// Hook is a command run after an image's install, replace or remove.
type Hook struct {
	Name    string
	Command []string // the program (an absolute path) and its arguments
	On      []string // Events
	Timeout time.Duration
	Range   hcl.Range
}

// Runs says whether h runs after event.
func (h *Hook) Runs(event string) bool { return slices.Contains(h.On, event) }

func (v *validator) hooks(raws []*rawHook) []*Hook {
	return namedBlocks(v, "hook", raws, func(r *rawHook) (string, hcl.Range) { return r.Name, r.NameAt }, v.hook)
}

func (v *validator) hook(raw *rawHook) *Hook {
	h := &Hook{Name: raw.Name, On: Events, Timeout: DefaultHookTimeout, Range: raw.DefRange}
	where := at(raw.Body, "command")
	for _, it := range v.stringList(raw.Command, where, "command") {
		h.Command = append(h.Command, it.value)
	}
	if len(h.Command) == 0 || !filepath.IsAbs(h.Command[0]) {
		v.errorf(where, "Invalid hook command", "The command of hook %q is a list whose first string is the program's absolute path, such as [\"/usr/local/bin/register\", \"--pool\", \"images\"].", raw.Name)
	}
	if where := at(raw.Body, "on"); present(where) {
		h.On = nil
		for _, it := range v.stringList(raw.On, where, "on") {
			if !slices.Contains(Events, it.value) {
				v.errorf(it.at, "Unknown event", "Hook %q can run on %s, not %q.%s", raw.Name, quoted(Events), it.value, suggest(it.value, Events))
				continue
			}
			h.On = append(h.On, it.value)
		}
	}
	if where := at(raw.Body, "timeout"); present(where) {
		d, err := time.ParseDuration(raw.Timeout)
		if err != nil || d <= 0 {
			v.errorf(where, "Invalid hook timeout", "The timeout of hook %q is a positive duration such as \"60s\", got %q.", raw.Name, raw.Timeout)
		}
		h.Timeout = d
	}
	return h
}
