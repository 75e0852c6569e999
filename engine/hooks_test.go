package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hook.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHooksSeeVmcatcherEvents: a vmcatcher-style handler gets the event
// and the image's fields under vmcatcher's names, after install, replace
// and remove, in spec order, its output logged under the image's name.
func TestHooksSeeVmcatcherEvents(t *testing.T) {
	v1, d1 := testutil.Image(t, 10<<10, 1)
	v2, d2 := testutil.Image(t, 10<<10, 2)
	h := newHost(t)
	h.serve("m", v1)
	seen := filepath.Join(t.TempDir(), "events")
	handler := script(t, `
test -n "$VMCATCHER_EVENT_TYPE" || { echo "no event type"; exit 1; }
test "$VMCATCHER_EVENT_FILENAME" = "$PRESTAGED_INSTALL" || exit 1
echo "first $VMCATCHER_EVENT_TYPE $PRESTAGED_EVENT $VMCATCHER_EVENT_DC_IDENTIFIER $VMCATCHER_EVENT_HV_SIZE $VMCATCHER_EVENT_HV_FORMAT $PRESTAGED_DIGEST" >> `+seen+`
echo "handled $PRESTAGED_IMAGE"
`)
	second := script(t, `echo "second $PRESTAGED_EVENT" >> `+seen)
	img := h.img("disk", v1, d1, "m")
	e := h.engine(img)
	e.Spec.Hooks = []*spec.Hook{
		{Name: "register", Command: []string{handler}, On: spec.Events, Timeout: time.Minute},
		{Name: "refresh", Command: []string{second}, On: []string{spec.EventInstall}, Timeout: time.Minute},
	}
	if _, res := h.apply(e); res.Failed != 0 {
		t.Fatalf("install: %v", h.events)
	}
	h.serve("m", v2)
	img.Digest = d2
	if _, res := h.apply(e); res.Failed != 0 {
		t.Fatalf("replace: %v", h.events)
	}
	e.Spec.Images = nil
	if _, res := h.apply(e); res.Failed != 0 {
		t.Fatalf("remove: %v", h.events)
	}
	b, _ := os.ReadFile(seen)
	want := strings.Join([]string{
		"first AvailablePostfix install disk 10240 raw " + d1.String(),
		"second install",
		"first AvailablePostfix replace disk 10240 raw " + d2.String(),
		"first ExpirePostfix remove disk 10240 raw " + d2.String(),
	}, "\n") + "\n"
	if string(b) != want {
		t.Errorf("hooks saw:\n%s\nwant:\n%s", b, want)
	}
	if !strings.Contains(strings.Join(h.events, "\n"), "disk: hook register: handled disk") {
		t.Errorf("the hook's output is not logged under the image: %v", h.events)
	}
}

// TestFailingHookRunsAgain: a hook that fails, or outlasts its timeout,
// fails the image, leaves the install, and runs again at the next apply
// until it passes.
func TestFailingHookRunsAgain(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"fails", `test -e "$FLAG" || { echo "not yet"; exit 3; }`},
		{"times out", `test -e "$FLAG" || exec sleep 30`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v1, d1 := testutil.Image(t, 10<<10, 1)
			h := newHost(t)
			h.serve("m", v1)
			flag := filepath.Join(t.TempDir(), "flag")
			t.Setenv("FLAG", flag)
			e := h.engine(h.img("disk", v1, d1, "m"))
			e.Spec.Hooks = []*spec.Hook{{Name: "register", Command: []string{script(t, tc.body)}, On: spec.Events, Timeout: 300 * time.Millisecond}}
			_, res := h.apply(e)
			if res.Failed != 1 || h.installed("disk") == nil || !strings.Contains(res.Outcomes[0].Error, `hook "register"`) {
				t.Fatalf("failing hook: %d failed, installed %t, error %q", res.Failed, h.installed("disk") != nil, res.Outcomes[0].Error)
			}
			p, res := h.apply(e)
			if p.Items[0].Code != engine.ReasonHookPending || res.Failed != 1 {
				t.Fatalf("next apply: %+v, %d failed", p.Items, res.Failed)
			}
			os.WriteFile(flag, nil, 0o644)
			if _, res := h.apply(e); res.Failed != 0 {
				t.Fatalf("hook passing: %d failed", res.Failed)
			}
			if p, _ := h.apply(e); p.Items[0].Code != engine.ReasonUnchanged {
				t.Errorf("after the hook passed: %+v", p.Items)
			}
		})
	}
}
