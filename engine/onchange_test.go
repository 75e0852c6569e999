package engine_test

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// holdOpen starts a process that keeps path open until the returned func
// is called, as a VM holds its disk.
func holdOpen(t *testing.T, path string) (pid int, release func()) {
	t.Helper()
	cmd := exec.Command("sh", "-c", `exec 3<"$1"; echo ready; exec sleep 600 <&3`, "sh", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	release = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(release)
	return cmd.Process.Pid, release
}

// consumerWrites changes the install as a VM writing to its disk would.
func consumerWrites(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("written by the VM"), 100); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	os.Chtimes(path, later, later)
}

// TestRestoreLeavesFileInUse: on_change = "restore" (the default) puts the
// image back over a consumer's change, but not while a process holds the
// file open: the plan says who, and the image fails until it is closed.
func TestRestoreLeavesFileInUse(t *testing.T) {
	v1, d1 := testutil.Image(t, 100<<10, 1)
	h := newHost(t)
	h.serve("m", v1)
	e := h.engine(h.img("disk", v1, d1, "m"))
	h.apply(e)
	consumerWrites(t, h.installPath("disk"))
	changed := h.installed("disk")

	pid, release := holdOpen(t, h.installPath("disk"))
	p, res := h.apply(e)
	want := "in use by PID " + strconv.Itoa(pid) + " (sleep)"
	if len(p.Items) != 1 || p.Items[0].Code != engine.ReasonInUse || !strings.Contains(p.Items[0].Reason, want) {
		t.Fatalf("plan: %+v, want %q", p.Items, want)
	}
	if res.Failed != 1 || !bytes.Equal(h.installed("disk"), changed) {
		t.Fatalf("apply with the file open: %d failed, file replaced: %t", res.Failed, !bytes.Equal(h.installed("disk"), changed))
	}
	release()
	if _, res := h.apply(e); res.Failed != 0 || !bytes.Equal(h.installed("disk"), v1) {
		t.Fatalf("apply once closed: %d failed, image restored: %t", res.Failed, bytes.Equal(h.installed("disk"), v1))
	}
}

// TestKeepLeavesConsumerChange: on_change = "keep" leaves a changed install
// as ok, replaces it for a new digest only once no process holds it, and
// never removes a changed one.
func TestKeepLeavesConsumerChange(t *testing.T) {
	v1, d1 := testutil.Image(t, 100<<10, 1)
	v2, d2 := testutil.Image(t, 100<<10, 2)
	h := newHost(t)
	h.serve("m", v1)
	img := h.img("disk", v1, d1, "m")
	img.OnChange = spec.OnChangeKeep
	e := h.engine(img)
	h.apply(e)
	consumerWrites(t, h.installPath("disk"))
	changed := h.installed("disk")

	p, res := h.apply(e)
	if p.Changes() || p.Items[0].Code != engine.ReasonChangedByConsumer || res.Changed != 0 || !bytes.Equal(h.installed("disk"), changed) {
		t.Fatalf("keep: %+v, changed %d", p.Items, res.Changed)
	}

	h.serve("m", v2)
	img.Digest = d2
	_, release := holdOpen(t, h.installPath("disk"))
	if p, res := h.apply(e); p.Items[0].Code != engine.ReasonInUse || res.Failed != 1 || !bytes.Equal(h.installed("disk"), changed) {
		t.Fatalf("new digest, file open: %+v, %d failed", p.Items, res.Failed)
	}
	release()
	if _, res := h.apply(e); res.Failed != 0 || !bytes.Equal(h.installed("disk"), v2) {
		t.Fatalf("new digest, file closed: %d failed, v2 installed: %t", res.Failed, bytes.Equal(h.installed("disk"), v2))
	}

	consumerWrites(t, h.installPath("disk"))
	changed = h.installed("disk")
	e.Spec.Images = nil
	if _, res := h.apply(e); res.Failed != 0 || !bytes.Equal(h.installed("disk"), changed) {
		t.Fatalf("left the spec: %d failed, the changed file was removed: %t", res.Failed, h.installed("disk") == nil)
	}
	if st, _ := h.store.LoadState(); len(st.Images) != 0 {
		t.Errorf("the record of a kept file that left the spec is still there: %+v", st.Images)
	}
}
