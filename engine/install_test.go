package engine_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"syscall"
	"testing"

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
