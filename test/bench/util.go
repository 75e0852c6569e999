package main

import (
	"bufio"
	"context"
	"fmt"
	"hash"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/spec"
	"golang.org/x/sys/unix"
)

func lookPath(p string) (string, error) { return exec.LookPath(p) }

func numCPU() int { return runtime.NumCPU() }

// binary is the prestaged to measure: the one given, dist/prestaged from
// `make build`, or one built now.
func binary(ctx context.Context, given, dir string) (string, error) {
	if given != "" {
		return filepath.Abs(given)
	}
	if fi, err := os.Stat("dist/prestaged"); err == nil && fi.Mode().IsRegular() {
		return filepath.Abs("dist/prestaged")
	}
	out := filepath.Join(dir, "prestaged")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/prestaged")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building prestaged (run from the module root): %w", err)
	}
	return out, nil
}

func filesystem(dir string) string {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return "unknown filesystem"
	}
	names := map[int64]string{0xEF53: "ext4", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x01021994: "tmpfs", 0x794c7630: "overlayfs"}
	if n, ok := names[int64(fs.Type)]; ok {
		return n
	}
	return fmt.Sprintf("filesystem 0x%x", fs.Type)
}

// makeImage writes size pseudo-random bytes to path and returns their
// sha256 hex. Each MiB differs, so no layer can deduplicate.
func makeImage(path string, size int64, seed uint64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	block := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < len(block); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			block[i+j] = byte(v >> (8 * j))
		}
	}
	h := digest.New(digest.SHA256)
	w := bufio.NewWriterSize(f, 4<<20)
	for off := int64(0); off < size; off += int64(len(block)) {
		copy(block, fmt.Sprintf("%016x", off))
		n := min(int64(len(block)), size-off)
		if err := write(w, h, block[:n]); err != nil {
			return "", err
		}
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return digest.Sum(digest.SHA256, h).Hex(), f.Close()
}

func write(w *bufio.Writer, h hash.Hash, b []byte) error {
	h.Write(b)
	_, err := w.Write(b)
	return err
}

// specImage is one image of a generated spec.
type specImage struct {
	name, sha, install string
	size               int64
}

// writeSpec writes a spec with one mirror and images, and returns its path.
func writeSpec(path, store, mirrorURL string, images []specImage) error {
	var b strings.Builder
	fmt.Fprintf(&b, "store = %q\nparallel = 1\n\nmirror \"bench\" {\n  url = %q\n}\n", store, mirrorURL)
	for _, im := range images {
		fmt.Fprintf(&b, "\nimage %q {\n  sha256  = %q\n  size    = %d\n  path    = %q\n  install = %q\n  sources = [\"mirror.bench\"]\n}\n",
			im.name, im.sha, im.size, im.name+".img", im.install)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// timed runs a command to completion and returns its wall time, its peak
// RSS (from wait4's rusage) and its combined output.
func timed(ctx context.Context, name string, args ...string) (time.Duration, int64, string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss << 10 // KiB on Linux
		}
	}
	if err != nil {
		return d, rss, out.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return d, rss, out.String(), nil
}

func mibps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

func verdict(ok bool) string {
	if ok {
		return "meets target"
	}
	return "MISSES target"
}

func human(n int64) string { return spec.FormatBytes(n) }
