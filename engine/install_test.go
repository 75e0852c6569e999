package engine_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
)

// zstdImage is a mostly-zero raw disk, the zstd file published for it and
// that file's digest.
func zstdImage(t *testing.T) (raw, published []byte, d digest.Digest) {
	t.Helper()
	raw = make([]byte, 2<<20)
	data, _ := testutil.Image(t, 64<<10, 9)
	copy(raw[1<<20:], data)
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	w.Close()
	published = buf.Bytes()
	d, _, err = digest.Of(digest.SHA256, bytes.NewReader(published))
	if err != nil {
		t.Fatal(err)
	}
	return raw, published, d
}

// TestApplyDerivesRawInstall: a zstd image installed as raw lands
// decompressed, sparse, with its owner and mode; the blob stays the
// published file; the next apply sees it converged; verify checks the
// install against the digest recorded for it; asking for the published
// file replaces it.
func TestApplyDerivesRawInstall(t *testing.T) {
	raw, published, d := zstdImage(t)
	h := newHost(t)
	h.serve("m", published)
	img := h.img("disk", published, d, "m")
	img.Format, img.InstallFormat, img.Mode = spec.FormatZstd, spec.FormatRaw, 0o640
	img.Owner, img.UID, img.Group, img.GID = "1234", 1234, "5678", 5678
	e := h.engine(img)
	_, res := h.apply(e)
	if res.Failed != 0 || !bytes.Equal(h.installed("disk"), raw) {
		t.Fatalf("apply: %d failed, %d bytes installed, want the raw disk (%v)", res.Failed, len(h.installed("disk")), h.events)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(h.installPath("disk"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o640 || st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("install mode %o owner %d:%d, want 640 1234:5678", st.Mode&0o7777, st.Uid, st.Gid)
	}
	if st.Blocks*512 > 256<<10 {
		t.Errorf("%d bytes allocated for 64 KiB of data: no holes", st.Blocks*512)
	}
	if b, ok := h.store.Blob(d); !ok || b.Size != int64(len(published)) {
		t.Errorf("the blob is not the published file: %+v %v", b, ok)
	}
	if p, _ := h.apply(e); p.Changes() {
		t.Errorf("second apply has changes: %+v", p.Items)
	}
	rep, err := e.Verify(context.Background())
	if err != nil || len(rep.Checked) != 1 || !rep.Checked[0].InstallOK {
		t.Fatalf("verify of the raw install: %+v %v", rep, err)
	}

	img.InstallFormat = spec.InstallPublished
	p, res := h.apply(e)
	if len(p.Items) != 1 || p.Items[0].Code != engine.ReasonFormatChanged || !bytes.Equal(h.installed("disk"), published) {
		t.Errorf("asking for the published file: %+v, %d bytes installed", p.Items, len(h.installed("disk")))
	}
	if res.Failed != 0 {
		t.Errorf("replace failed: %v", h.events)
	}
}

// TestFailedConversionKeepsInstall: bytes that verify but do not convert
// fail the image and leave the previous install where it was.
func TestFailedConversionKeepsInstall(t *testing.T) {
	old, dOld := testutil.Image(t, 100<<10, 1)
	junk, dJunk := testutil.Image(t, 100<<10, 2) // not zstd
	h := newHost(t)
	h.serve("m", old)
	img := h.img("disk", old, dOld, "m")
	e := h.engine(img)
	if _, res := h.apply(e); res.Failed != 0 {
		t.Fatalf("first apply failed: %v", h.events)
	}
	h.serve("m", junk)
	img.Digest, img.Format, img.InstallFormat = dJunk, spec.FormatZstd, spec.FormatRaw
	_, res := h.apply(e)
	if res.Failed != 1 || !bytes.Equal(h.installed("disk"), old) {
		t.Fatalf("failed conversion: %d failed, install changed: %t", res.Failed, !bytes.Equal(h.installed("disk"), old))
	}
	if msg := res.Outcomes[0].Error; !strings.Contains(msg, "zst") {
		t.Errorf("the failure does not say what failed: %q", msg)
	}
	if left, _ := os.ReadDir(h.dir + "/images"); len(left) != 1 {
		t.Errorf("files beside the install: %v", left)
	}
}

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
	comm := fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(comm); strings.TrimSpace(string(b)) == "sleep" {
			break // the shell has become sleep, which holds the file
		}
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
	e := h.appliedEngine("disk", v1, d1)
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

// TestApplyInstallFormats: a qcow2 image installed as raw is a raw disk
// (qemu-img info) with the qcow2's content; a gzip image installed as
// published is the gzip file, byte for byte.
func TestApplyInstallFormats(t *testing.T) {
	qemuImg := testutil.Need(t, "qemu-img")
	disk, _, _ := zstdImage(t)
	dir := t.TempDir()
	raw, qcow := filepath.Join(dir, "disk.raw"), filepath.Join(dir, "disk.qcow2")
	testutil.Must(t, os.WriteFile(raw, disk, 0o644))
	if out, err := exec.Command(qemuImg, "convert", "-f", "raw", "-O", "qcow2", raw, qcow).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v: %s", err, out)
	}
	qb, err := os.ReadFile(qcow)
	testutil.Must(t, err)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(disk)
	zw.Close()

	h := newHost(t)
	qd, _, _ := digest.Of(digest.SHA256, bytes.NewReader(qb))
	gd, _, _ := digest.Of(digest.SHA256, bytes.NewReader(gz.Bytes()))
	h.serve("q", qb)
	h.serve("g", gz.Bytes())
	qi := h.img("vm", qb, qd, "q")
	qi.Path, qi.InstallFormat = "vm.qcow2", spec.FormatRaw // the format from the path's extension
	gi := h.img("appdb", gz.Bytes(), gd, "g")
	gi.Path = "appdb.img.gz" // installed as published: the gzip file
	if _, res := h.apply(h.engine(qi, gi)); res.Failed != 0 {
		t.Fatalf("apply: %v", h.events)
	}
	if !bytes.Equal(h.installed("vm"), disk) {
		t.Errorf("the qcow2 installed as raw differs from its disk")
	}
	if out, _ := exec.Command(qemuImg, "info", h.installPath("vm")).CombinedOutput(); !strings.Contains(string(out), "file format: raw") {
		t.Errorf("qemu-img info of the raw install: %s", out)
	}
	if !bytes.Equal(h.installed("appdb"), gz.Bytes()) {
		t.Errorf("the gzip image installed as published is not the gzip file")
	}
}
