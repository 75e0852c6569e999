package convert

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/prestaged/prestaged/internal/testutil"
	"github.com/prestaged/prestaged/spec"
	"github.com/ulikunitz/xz"
)

// mostlyZero is a disk of 4 MiB with 64 KiB of data at its start and at
// 2 MiB: the rest must become holes.
func mostlyZero(t *testing.T) []byte {
	t.Helper()
	disk := make([]byte, 4<<20)
	for _, off := range []int{0, 2 << 20} {
		if _, err := rand.Read(disk[off : off+HoleSize]); err != nil {
			t.Fatal(err)
		}
	}
	return disk
}

// wrote fails the test on a failed write.
func wrote(t *testing.T) func(int, error) {
	return func(_ int, err error) {
		t.Helper()
		testutil.Must(t, err)
	}
}

func compress(t *testing.T, format string, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch format {
	case spec.FormatGzip:
		w := gzip.NewWriter(&buf)
		wrote(t)(w.Write(raw))
		testutil.Must(t, w.Close())
	case spec.FormatZstd:
		w, err := zstd.NewWriter(&buf)
		testutil.Must(t, err)
		wrote(t)(w.Write(raw))
		testutil.Must(t, w.Close())
	case spec.FormatXZ:
		w, err := xz.NewWriter(&buf)
		testutil.Must(t, err)
		wrote(t)(w.Write(raw))
		testutil.Must(t, w.Close())
	case spec.FormatBzip2:
		cmd := exec.Command("bzip2", "-c")
		cmd.Stdin, cmd.Stdout = bytes.NewReader(raw), &buf
		testutil.Must(t, cmd.Run())
	}
	return buf.Bytes()
}

// run converts the file src (published as from, named name) to to, and
// returns the output's path.
func run(t *testing.T, src, from, name, to string) (string, error) {
	t.Helper()
	dst, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	_, err = Run(context.Background(), Job{Src: src, From: from, Name: name, To: to, Dst: dst})
	return dst.Name(), err
}

// allocated is the bytes path takes on disk.
func allocated(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

func qemuImgT(t *testing.T, args ...string) string {
	t.Helper()
	testutil.Need(t, "qemu-img")
	out, err := exec.Command("qemu-img", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestDecompressToSparseRaw(t *testing.T) {
	disk := mostlyZero(t)
	for _, format := range []string{spec.FormatGzip, spec.FormatZstd, spec.FormatXZ, spec.FormatBzip2} {
		t.Run(format, func(t *testing.T) {
			if format == spec.FormatBzip2 {
				testutil.Need(t, "bzip2")
			}
			src := filepath.Join(t.TempDir(), "disk.img."+format)
			testutil.Must(t, os.WriteFile(src, compress(t, format, disk), 0o644))
			out, err := run(t, src, format, "disk.img."+format, spec.FormatRaw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(got, disk) {
				t.Fatalf("decompressed %d bytes (%v), want the %d of the disk", len(got), err, len(disk))
			}
			if a := allocated(t, out); a > 4*HoleSize {
				t.Errorf("%d bytes allocated for 128 KiB of data: the zeros are not holes", a)
			}
		})
	}
}

// diskAs is a mostly-zero disk and the path of its copy in format, made
// by qemu-img.
func diskAs(t *testing.T, format, name string) ([]byte, string) {
	t.Helper()
	disk := mostlyZero(t)
	dir := t.TempDir()
	raw := filepath.Join(dir, "disk.raw")
	testutil.Must(t, os.WriteFile(raw, disk, 0o644))
	out := filepath.Join(dir, name)
	qemuImgT(t, "convert", "-f", "raw", "-O", format, raw, out)
	return disk, out
}

func TestQcow2ToRaw(t *testing.T) {
	disk, qcow := diskAs(t, spec.FormatQCOW2, "disk.qcow2")

	out, err := run(t, qcow, spec.FormatQCOW2, "disk.qcow2", spec.FormatRaw)
	if err != nil {
		t.Fatal(err)
	}
	if info := qemuImgT(t, "info", out); !strings.Contains(info, "file format: raw") {
		t.Errorf("qemu-img info: %s", info)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, disk) {
		t.Errorf("the raw disk differs from the one the qcow2 was made of")
	}
	if a := allocated(t, out); a > 4*HoleSize {
		t.Errorf("%d bytes allocated for 128 KiB of data", a)
	}

	back, err := run(t, out, spec.FormatRaw, "disk.img", spec.FormatQCOW2)
	if err != nil {
		t.Fatal(err)
	}
	if info := qemuImgT(t, "info", back); !strings.Contains(info, "file format: qcow2") {
		t.Errorf("raw to qcow2: qemu-img info: %s", info)
	}
}

func TestCompressedQcow2ToRaw(t *testing.T) {
	disk, qcow := diskAs(t, spec.FormatQCOW2, "disk.qcow2")
	b, err := os.ReadFile(qcow)
	testutil.Must(t, err)
	src := filepath.Join(filepath.Dir(qcow), "disk.qcow2.zst")
	testutil.Must(t, os.WriteFile(src, compress(t, spec.FormatZstd, b), 0o644))

	out, err := run(t, src, spec.FormatZstd, "disk.qcow2.zst", spec.FormatRaw)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, disk) {
		t.Errorf("the raw disk differs from the one the compressed qcow2 was made of")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*inner*")); len(left) > 0 {
		t.Errorf("scratch files left: %v", left)
	}
}

func TestOVAToRaw(t *testing.T) {
	disk, vmdk := diskAs(t, spec.FormatVMDK, "disk1.vmdk")
	dir := filepath.Dir(vmdk)
	ova := filepath.Join(dir, "appliance.ova")
	writeTar(t, ova, map[string]string{"appliance.ovf": "", "disk1.vmdk": vmdk})

	out, err := run(t, ova, spec.FormatOVA, "appliance.ova", spec.FormatRaw)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, disk) {
		t.Errorf("the disk taken out of the OVA differs")
	}

	empty := filepath.Join(dir, "empty.ova")
	writeTar(t, empty, map[string]string{"appliance.ovf": ""})
	if _, err := run(t, empty, spec.FormatOVA, "empty.ova", spec.FormatRaw); err == nil || !strings.Contains(err.Error(), "no disk") {
		t.Errorf("an OVA without a disk: %v", err)
	}
}

// writeTar writes a tar of the given members, in name order: a member's
// value is the path of its content, or "" for an empty descriptor.
func writeTar(t *testing.T, path string, members map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	testutil.Must(t, err)
	defer f.Close()
	w := tar.NewWriter(f)
	for _, name := range []string{"appliance.ovf", "disk1.vmdk"} {
		src, ok := members[name]
		if !ok {
			continue
		}
		var b []byte
		if src != "" {
			b, err = os.ReadFile(src)
			testutil.Must(t, err)
		}
		testutil.Must(t, w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}))
		wrote(t)(w.Write(b))
	}
	testutil.Must(t, w.Close())
}

func TestConversionFailureNamesTheStep(t *testing.T) {
	src := filepath.Join(t.TempDir(), "not.qcow2")
	testutil.Must(t, os.WriteFile(src, []byte("not a qcow2 image"), 0o644))
	testutil.Need(t, "qemu-img")
	_, err := run(t, src, spec.FormatQCOW2, "not.qcow2", spec.FormatRaw)
	if err == nil || !strings.Contains(err.Error(), "qemu-img convert from qcow2 to raw") {
		t.Errorf("converting junk: %v", err)
	}
	gz := filepath.Join(t.TempDir(), "not.img.gz")
	testutil.Must(t, os.WriteFile(gz, []byte("not gzip"), 0o644))
	if _, err := run(t, gz, spec.FormatGzip, "not.img.gz", spec.FormatRaw); err == nil || !strings.Contains(err.Error(), "gz") {
		t.Errorf("decompressing junk: %v", err)
	}
}
