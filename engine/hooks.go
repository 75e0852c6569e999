package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/spec"
)

// runHooks runs, in spec order, the hooks that run after event for the
// image rec records, each bounded by its timeout, with its output logged
// under the image's name. Every hook runs; the error joins their failures.
func (a *applier) runHooks(ctx context.Context, event string, img *spec.Image, rec store.Record) error {
	var errs []error
	for _, h := range a.e.Spec.Hooks {
		if !h.Runs(event) {
			continue
		}
		if err := a.runHook(ctx, h, hookEnv(event, img, rec), rec.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *applier) runHook(ctx context.Context, h *spec.Hook, env []string, image string) error {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.Command[0], h.Command[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = hookWaitDelay
	log := &lineLog{log: func(line string) { a.e.reporter().Event(image, "hook "+h.Name+": "+line) }}
	cmd.Stdout, cmd.Stderr = log, log
	err := cmd.Run()
	log.flush()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("hook %q timed out after %s", h.Name, h.Timeout)
	case err != nil:
		return fmt.Errorf("hook %q failed: %w", h.Name, err)
	}
	return nil
}

// hookWaitDelay is how long the output of a hook that ended or was killed
// may still be read (a child it left behind may hold it open).
const hookWaitDelay = 2 * time.Second

// lineLog passes what it is written to log line by line.
type lineLog struct {
	mu  sync.Mutex
	buf []byte
	log func(string)
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.log(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 { // a line without end: log it in parts
		l.log(string(l.buf))
		l.buf = nil
	}
	return len(p), nil
}

func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.log(string(l.buf))
		l.buf = nil
	}
}

// hookEnv is what a hook is told: prestaged's own variables, and the ones
// vmcatcher's event handlers read, including every field of an endorsed
// image's list entry, so existing handlers work unchanged.
func hookEnv(event string, img *spec.Image, rec store.Record) []string {
	format := firstOf(rec.InstallFormat, rec.Format)
	vm := map[string]string{}
	if img != nil {
		for k, v := range img.EndorsedFields {
			vm[k] = v
		}
	}
	vm["dc:identifier"] = firstOf(vm["dc:identifier"], rec.ID, rec.Name)
	vm["hv:size"] = strconv.FormatInt(rec.File.Size, 10)
	vm["hv:format"] = firstOf(vm["hv:format"], format)
	if rec.Digest.Algo() == "sha512" {
		vm["sl:checksum:sha512"] = rec.Digest.Hex()
	}
	env := []string{
		"PRESTAGED_EVENT=" + event, "PRESTAGED_IMAGE=" + rec.Name, "PRESTAGED_INSTALL=" + rec.Install,
		"PRESTAGED_DIGEST=" + rec.Digest.String(), "PRESTAGED_SIZE=" + strconv.FormatInt(rec.File.Size, 10),
		"PRESTAGED_FORMAT=" + format, "PRESTAGED_TRUST=" + rec.Trust,
		"VMCATCHER_EVENT_TYPE=" + vmcatcherType(event), "VMCATCHER_EVENT_FILENAME=" + rec.Install,
	}
	keys := make([]string, 0, len(vm))
	for k := range vm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, "VMCATCHER_EVENT_"+strings.ToUpper(strings.NewReplacer(":", "_", "-", "_").Replace(k))+"="+vm[k])
	}
	return env
}

// vmcatcherType is vmcatcher's name for event.
func vmcatcherType(event string) string {
	if event == spec.EventRemove {
		return "ExpirePostfix"
	}
	return "AvailablePostfix"
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
