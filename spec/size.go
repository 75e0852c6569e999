package spec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrSize is wrapped by every ParseSize error.
var ErrSize = errors.New("invalid size")

// sizeUnits are the byte units ParseSize reads: binary (KiB, MiB, GiB, TiB
// and their one-letter forms K, M, G, T) and decimal (kB, MB, GB, TB).
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40,
	"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
}

// ParseSize reads a positive byte count: "256MiB", "1.5GiB", "32M"
// (binary), "500MB" (decimal) or a bare number of bytes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	mult, ok := sizeUnits[strings.TrimSpace(t[i:])]
	n, err := strconv.ParseFloat(t[:i], 64)
	if i == 0 || !ok || err != nil {
		return 0, fmt.Errorf("%w %q: want a number and a unit such as 256MiB, 1GiB or 500MB", ErrSize, s)
	}
	v := math.Round(n * float64(mult))
	if v < 1 || v > math.MaxInt64/4 {
		return 0, fmt.Errorf("%w %q: out of range", ErrSize, s)
	}
	return int64(v), nil
}

// FormatBytes renders n in binary units for people ("1.5 GiB", "512 B").
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
