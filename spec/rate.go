package spec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrRate is wrapped by every ParseRate error.
var ErrRate = errors.New("invalid rate")

// rateUnits maps a unit suffix to bits per second per unit. A lowercase "b"
// counts bits and an uppercase "B" bytes, as in "Mbit", "Mbps" and "MB/s".
var rateUnits = func() map[string]float64 {
	prefixes := map[string]float64{
		"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
	}
	suffixes := map[string]float64{
		"bit": 1, "bit/s": 1, "bps": 1, "b/s": 1,
		"B/s": 8, "Bps": 8, "B": 8,
	}
	units := map[string]float64{}
	for p, pm := range prefixes {
		for s, sm := range suffixes {
			units[p+s] = pm * sm
		}
	}
	return units
}()

// ParseRate reads a bandwidth: "900Mbit", "1Gbit", "100Mbps" and
// "100Mbit/s" are bits per second, "50MB/s" and "50MiB/s" bytes per second.
// Decimal prefixes (k, M, G, T) are powers of 1000, binary ones (Ki, Mi, Gi,
// Ti) powers of 1024. "0", "unlimited" and "" mean no limit (Rate 0). A bare
// number other than 0 is refused: bits or bytes must be said.
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "0" || t == "unlimited" {
		return 0, nil
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("%w %q: want a number and a unit, such as \"900Mbit\" or \"50MB/s\"", ErrRate, s)
	}
	n, err := strconv.ParseFloat(t[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q: %w", ErrRate, s, err)
	}
	unit := strings.TrimSpace(t[i:])
	mult, ok := rateUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%w %q: unknown unit %q (bits: bit, bps, bit/s; bytes: B/s, Bps; prefixes k, M, G, T, Ki, Mi, Gi, Ti)", ErrRate, s, unit)
	}
	bits := math.Round(n * mult)
	if bits >= math.MaxInt64 {
		return 0, fmt.Errorf("%w %q: too large", ErrRate, s)
	}
	if bits == 0 && n != 0 {
		return 0, fmt.Errorf("%w %q: less than one bit per second", ErrRate, s)
	}
	return Rate(bits), nil
}

// String gives the shortest exact form ParseRate reads back: decimal bit
// units first ("900Mbit"), then binary byte units ("50MiB/s"), else bits.
func (r Rate) String() string {
	if r == 0 {
		return "unlimited"
	}
	forms := []struct {
		unit string
		per  int64
	}{
		{"Tbit", 1e12}, {"Gbit", 1e9}, {"Mbit", 1e6}, {"kbit", 1e3},
		{"TiB/s", 8 << 40}, {"GiB/s", 8 << 30}, {"MiB/s", 8 << 20}, {"KiB/s", 8 << 10},
	}
	for _, f := range forms {
		if int64(r)%f.per == 0 {
			return strconv.FormatInt(int64(r)/f.per, 10) + f.unit
		}
	}
	return strconv.FormatInt(int64(r), 10) + "bit"
}
