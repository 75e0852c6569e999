package trust

import (
	"fmt"
	"math/big"
	"strings"
)

// CompareVersions orders hv:version values as dotted numbers ("1.10" >
// "1.9", "2" == "2.0"); when either is not dotted-numeric it falls back to
// comparing the strings. The result is -1, 0 or +1.
func CompareVersions(a, b string) int {
	pa, okA := dotted(a)
	pb, okB := dotted(b)
	if !okA || !okB {
		return strings.Compare(a, b)
	}
	for i := 0; i < max(len(pa), len(pb)); i++ {
		x, y := part(pa, i), part(pb, i)
		if c := x.Cmp(y); c != 0 {
			return c
		}
	}
	return 0
}

func dotted(v string) ([]*big.Int, bool) {
	if v == "" {
		return nil, false
	}
	fields := strings.Split(v, ".")
	out := make([]*big.Int, len(fields))
	for i, f := range fields {
		if f == "" || strings.Trim(f, "0123456789") != "" {
			return nil, false
		}
		out[i], _ = new(big.Int).SetString(f, 10)
	}
	return out, true
}

func part(p []*big.Int, i int) *big.Int {
	if i < len(p) {
		return p[i]
	}
	return new(big.Int)
}

// BumpVersion increments the last number of a dotted version; an empty
// version becomes "1".
func BumpVersion(v string) (string, error) {
	if v == "" {
		return "1", nil
	}
	p, ok := dotted(v)
	if !ok {
		return "", fmt.Errorf("hv:version %q is not a dotted number; set a numeric version to let sign bump it", v)
	}
	p[len(p)-1].Add(p[len(p)-1], big.NewInt(1))
	s := make([]string, len(p))
	for i, n := range p {
		s[i] = n.String()
	}
	return strings.Join(s, "."), nil
}
