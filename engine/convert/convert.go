// Package convert derives an image's install form from its published file:
// it decompresses gzip, xz, zstd and bzip2 in Go, takes the disk out of an
// OVA, and converts disk formats with qemu-img. Raw output is sparse: its
// aligned pages of zeros are holes.
package convert

import (
	"archive/tar"
	"bufio"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/prestaged/prestaged/internal/holes"
	"github.com/prestaged/prestaged/spec"
	"github.com/ulikunitz/xz"
)

// HoleSize is the smallest run of zeros qemu-img leaves as a hole.
const HoleSize = 64 << 10

// ErrNoQemuImg: a disk format conversion needs qemu-img, which is absent.
var ErrNoQemuImg = errors.New("qemu-img not found (Debian: apt install qemu-utils; RHEL: dnf install qemu-img)")

// Job is one derivation: the published file Src, of format From, whose
// name (for the format inside a compressed file or an OVA) is Name, to be
// written as format To (spec.FormatRaw or spec.FormatQCOW2) into Dst.
type Job struct {
	Src  string
	From string
	Name string
	To   string
	Dst  *os.File
	// Hash, if set, is fed the output when it is written in order here (a
	// decompression); Run reports whether it was.
	Hash io.Writer
}

// Needed says whether an image published as from must be converted to be
// installed as to (spec.InstallFormats), and into what format.
func Needed(from, to string) (string, bool) {
	if to == spec.InstallPublished || to == "" || to == from {
		return "", false
	}
	return to, true
}

// Run writes the install form of j.Src into j.Dst, which it leaves at the
// output's length; the caller syncs and renames it. It reports whether
// j.Hash was fed the whole output.
func Run(ctx context.Context, j Job) (hashed bool, err error) {
	switch {
	case spec.Compressed(j.From):
		return j.decompress(ctx)
	case j.From == spec.FormatOVA:
		return j.fromOVA(ctx)
	default:
		return false, qemuImg(ctx, j.Src, j.From, j.Dst.Name(), j.To)
	}
}

// decompress streams the decompressed bytes into Dst when they are already
// of format To, and through a scratch file and qemu-img when not.
func (j Job) decompress(ctx context.Context) (bool, error) {
	f, err := os.Open(j.Src)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r, err := decompressor(j.From, bufio.NewReaderSize(f, 1<<20))
	hashed := false
	if err == nil {
		defer r.Close()
		hashed, err = j.writeAs(ctx, r, spec.InnerFormat(j.Name))
	}
	if err != nil {
		return false, fmt.Errorf("decompressing %s: %w", j.From, err)
	}
	return hashed, nil
}

// writeAs writes r, a disk of format inner, into Dst as format To, and
// reports whether Hash was fed it.
func (j Job) writeAs(ctx context.Context, r io.Reader, inner string) (bool, error) {
	if inner == j.To {
		if j.Hash != nil {
			r = io.TeeReader(r, j.Hash)
		}
		return j.Hash != nil, sparseCopy(ctx, j.Dst, r, inner == spec.FormatRaw)
	}
	scratch, err := os.CreateTemp(path.Dir(j.Dst.Name()), path.Base(j.Dst.Name())+".inner-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(scratch.Name())
	defer scratch.Close()
	if err := sparseCopy(ctx, scratch, r, inner == spec.FormatRaw); err != nil {
		return false, err
	}
	return false, qemuImg(ctx, scratch.Name(), inner, j.Dst.Name(), j.To)
}

func decompressor(format string, r io.Reader) (io.ReadCloser, error) {
	switch format {
	case spec.FormatGzip:
		return gzip.NewReader(r)
	case spec.FormatZstd:
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case spec.FormatXZ:
		x, err := xz.NewReader(r)
		return io.NopCloser(x), err
	case spec.FormatBzip2:
		return io.NopCloser(bzip2.NewReader(r)), nil
	}
	return nil, fmt.Errorf("not a compression: %q", format)
}

// fromOVA takes the first disk out of an OVA (a tar of an OVF descriptor
// and its disks) and writes it as To.
func (j Job) fromOVA(ctx context.Context) (bool, error) {
	f, err := os.Open(j.Src)
	if err != nil {
		return false, err
	}
	defer f.Close()
	tr := tar.NewReader(bufio.NewReaderSize(f, 1<<20))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return false, fmt.Errorf("ova %s: no disk (.vmdk, .qcow2, .img or .raw) inside", j.Name)
		}
		if err != nil {
			return false, fmt.Errorf("ova %s: %w", j.Name, err)
		}
		inner := spec.FormatOfName(h.Name)
		if h.Typeflag != tar.TypeReg || (inner != spec.FormatVMDK && inner != spec.FormatQCOW2 && inner != spec.FormatRaw) {
			continue
		}
		return j.writeAs(ctx, tr, inner)
	}
}

// qemuImg converts src of format from into dst as format to, leaving zero
// runs of HoleSize as holes.
func qemuImg(ctx context.Context, src, from, dst, to string) error {
	bin, err := exec.LookPath("qemu-img")
	if err != nil {
		return ErrNoQemuImg
	}
	cmd := exec.CommandContext(ctx, bin, "convert", "-q", "-f", from, "-O", to, "-S", fmt.Sprint(HoleSize), src, dst)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img convert from %s to %s: %w: %s", from, to, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// sparseCopy copies r into dst from offset 0. With holes, the aligned
// pages of zeros are left out, so they stay holes of the fresh file.
func sparseCopy(ctx context.Context, dst *os.File, r io.Reader, holes bool) error {
	buf := make([]byte, 1<<20)
	var off int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if werr := writeAt(dst, buf[:n], off, holes); werr != nil {
				return werr
			}
			off += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return dst.Truncate(off)
		}
		if err != nil {
			return err
		}
	}
}

func writeAt(dst *os.File, p []byte, off int64, sparse bool) error {
	var err error
	if sparse {
		_, _, err = holes.WriteAt(dst, p, off)
	} else {
		_, err = dst.WriteAt(p, off)
	}
	return err
}
