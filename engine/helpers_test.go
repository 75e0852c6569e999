package engine_test

import (
	"github.com/prestaged/prestaged/digest"
	"github.com/prestaged/prestaged/engine"
)

// appliedEngine serves b as mirror "m", applies the one image name of it
// and returns the engine, for tests that start from an installed image.
func (h *host) appliedEngine(name string, b []byte, d digest.Digest) *engine.Engine {
	h.t.Helper()
	h.serve("m", b)
	e := h.engine(h.img(name, b, d, "m"))
	h.apply(e)
	return e
}
