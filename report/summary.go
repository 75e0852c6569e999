package report

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/prestaged/prestaged/engine"
)

// Summary is the last line of apply or verify: verify counts what it
// checked and repaired, as apply's line would not say.
func Summary(res *engine.Result, checked []engine.Checked, verify bool) string {
	if !verify {
		return res.Summary()
	}
	damaged, repaired := 0, 0
	for _, ch := range checked {
		if ch.Damaged() {
			damaged++
		}
		if ch.Damaged() && !strings.HasPrefix(ch.Repair, "none") && !strings.HasPrefix(ch.Repair, "failed") {
			repaired++
		}
	}
	s := fmt.Sprintf("Verify: %d checked, %d damaged, %d repaired, %d not repaired", len(checked), damaged, repaired, damaged-repaired)
	if damaged == 0 {
		s += "; every image is intact"
	}
	return s
}

// SpecFileError says why the spec at path could not be opened, with the
// operating system's reason, and how to name another one.
func SpecFileError(path, def string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	what := "cannot open spec " + path
	if errors.Is(err, fs.ErrNotExist) {
		what = "no such file: spec " + path
	}
	return fmt.Errorf("%s (%w); give the spec's path as SPEC, as in 'prestaged apply /path/to/spec.hcl' (default %s)", what, err, def)
}
