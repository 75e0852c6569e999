package engine

import (
	"context"
	"hash/crc32"
	"io"
	"slices"
	"sync"

	"github.com/prestaged/prestaged/engine/store"
	"github.com/prestaged/prestaged/fetchers"
	"github.com/prestaged/prestaged/internal/ranges"
)

// earlierRun is the ledger's name for bytes found staged when a fetch began.
const earlierRun = ""

// ledger records, for one fetch, how many bytes each source wrote and which
// bytes of the staging file each holds: a later write over the same bytes
// takes them from the source that wrote them first.
type ledger struct {
	mu    sync.Mutex
	bytes map[string]int64
	holds map[string]*ranges.Set
}

func newLedger(resumed int64) *ledger {
	l := &ledger{bytes: map[string]int64{}, holds: map[string]*ranges.Set{}}
	if resumed > 0 {
		l.holds[earlierRun] = &ranges.Set{{Start: 0, End: resumed}}
	}
	return l
}

func (l *ledger) add(name string, off int64, n int) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bytes[name] += int64(n)
	for k, s := range l.holds {
		if k != name {
			s.Remove(off, off+int64(n))
		}
	}
	s := l.holds[name]
	if s == nil {
		s = &ranges.Set{}
		l.holds[name] = s
	}
	s.Add(off, off+int64(n))
}

// writers are the sources that wrote bytes, sorted.
func (l *ledger) writers() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k, v := range l.bytes {
		if v > 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// soleWriter is the source that wrote every byte the staging file holds,
// when there is one: no other source and no earlier run left any.
func (l *ledger) soleWriter() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	who := ""
	for k, s := range l.holds {
		if s.Len() == 0 {
			continue
		}
		if k == earlierRun || who != "" {
			return "", false
		}
		who = k
	}
	return who, who != ""
}

func (l *ledger) merge(into map[string]int64) map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if into == nil {
		into = map[string]int64{}
	}
	for k, v := range l.bytes {
		into[k] += v
	}
	return into
}

func (l *ledger) wrap(s fetchers.Named) fetchers.Fetcher {
	return fetchers.Func(func(ctx context.Context, req fetchers.Request, dst fetchers.Dst) error {
		return s.Fetch(ctx, req, countDst{Dst: dst, count: func(off int64, n int) { l.add(s.Name, off, n) }})
	})
}

// rejected is a staging file whose bytes failed verification, kept open
// until discard so that each source's bytes can be judged.
type rejected struct {
	stg *store.Staging
	led *ledger
}

func (r *rejected) discard() { r.stg.Discard() }

// sums is a checksum of the bytes each source (not an earlier run) holds in
// the rejected file.
func (r *rejected) sums(ctx context.Context) (rangeSums, error) {
	r.led.mu.Lock()
	held := map[string]ranges.Set{}
	for k, s := range r.led.holds {
		if k != earlierRun && s.Len() > 0 {
			held[k] = slices.Clone(*s)
		}
	}
	r.led.mu.Unlock()
	out := rangeSums{}
	for k, set := range held {
		sum, err := checksum(ctx, r.stg, set)
		if err != nil {
			return nil, err
		}
		out[k] = heldSum{set: set, sum: sum}
	}
	return out, nil
}

// rangeSums compares what sources sent with the verified image. A CRC, not
// a cryptographic hash: it only decides whom to blame, and an innocent
// source's bytes are the image's, so no collision can frame one.
type rangeSums map[string]heldSum

type heldSum struct {
	set ranges.Set
	sum uint32
}

// differ names the sources whose bytes differ from the verified blob's at
// the same offsets, sorted. A blob that cannot be read blames no one.
func (s rangeSums) differ(ctx context.Context, blob store.Blob) []string {
	f, err := store.OpenRegular(blob.Path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	for k, h := range s {
		sum, err := checksum(ctx, f, h.set)
		if err != nil {
			return nil
		}
		if sum != h.sum {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(ctx context.Context, r io.ReaderAt, set ranges.Set) (uint32, error) {
	h := crc32.New(castagnoli)
	buf := make([]byte, 1<<20)
	for _, x := range set {
		if _, err := io.CopyBuffer(h, io.NewSectionReader(r, x.Start, x.Len()), buf); err != nil {
			return 0, err
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	return h.Sum32(), nil
}
