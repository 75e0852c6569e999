package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/prestaged/prestaged/spec"
)

// published is one file the mirror offers for the image: the raw disk, or
// a compressed copy that hosts install as raw.
type published struct {
	format string // spec.FormatRaw or spec.FormatZstd
	name   string // on the mirror
	digest string // hex sha256
	size   int64
}

// label is how a row names the format it distributed.
func (p published) label() string {
	if p.format == spec.FormatRaw {
		return ""
	}
	return " (" + p.format + " to raw)"
}

// writeImage writes the raw image once, random bytes from the seed or an
// ext4 filesystem of Config.ImageTree, and each compressed copy asked for.
func (tb *Testbed) writeImage(ctx context.Context) error {
	dir := filepath.Join(tb.fs, "mirror")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	raw := filepath.Join(dir, imageName)
	var err error
	if tb.cfg.ImageTree != "" {
		err = buildExt4(ctx, raw, tb.cfg.ImageTree, tb.cfg.Size)
	} else {
		err = writeRandom(raw, tb.cfg.Seed, tb.cfg.Size)
	}
	if err != nil {
		return fmt.Errorf("write image: %w", err)
	}
	tb.images = map[string]published{}
	for _, format := range tb.cfg.publish() {
		p := published{format: format, name: imageName}
		if format != spec.FormatRaw {
			p.name = imageName + "." + format
			if err := compress(raw, filepath.Join(dir, p.name)); err != nil {
				return fmt.Errorf("write image: %s: %w", format, err)
			}
		}
		if p.digest, p.size, err = hashFile(filepath.Join(dir, p.name)); err != nil {
			return err
		}
		tb.images[format] = p
	}
	tb.raw = tb.images[spec.FormatRaw]
	if tb.raw.digest == "" {
		if tb.raw.digest, tb.raw.size, err = hashFile(raw); err != nil {
			return err
		}
	}
	tb.pub = tb.images[tb.cfg.publish()[0]]
	return nil
}

// writeRandom writes size bytes from a PRNG seeded with seed.
func writeRandom(path string, seed, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], uint64(seed))
	if _, err := io.CopyBuffer(f, io.LimitReader(rand.NewChaCha8(s), size), make([]byte, 1<<20)); err != nil {
		return err
	}
	return f.Close()
}

// buildExt4 makes an ext4 filesystem of size bytes at path holding a copy
// of tree, as a VM image is built (mkfs.ext4 -d): real files, free space as
// zeros.
func buildExt4(ctx context.Context, path, tree string, size int64) error {
	if err := os.Truncate(path, 0); err != nil && !os.IsNotExist(err) {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	f.Close()
	if err := os.Truncate(path, size); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-b", "4096", "-L", "prestaged", "-E", "root_owner=0:0,lazy_itable_init=0",
		"-d", tree, path, strconv.FormatInt(size/4096, 10))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.ext4 -d %s: %w: %s", tree, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// compress writes the zstd of src to dst.
func compress(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	w, err := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(w, in, make([]byte, 1<<20)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return out.Close()
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	return hex.EncodeToString(h.Sum(nil)), n, err
}
