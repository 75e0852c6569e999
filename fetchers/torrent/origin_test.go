package torrent

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/fetchers"
)

// memOrigin serves an image from memory and counts the reads per piece.
type memOrigin struct {
	data []byte
	mu   sync.Mutex
	hits map[int64]int // offset -> reads
	fail func(off int64) error
}

func newMemOrigin(data []byte) *memOrigin { return &memOrigin{data: data, hits: map[int64]int{}} }

func (o *memOrigin) read(_ context.Context, _ fetchers.Request, p []byte, off int64) error {
	if o.fail != nil {
		if err := o.fail(off); err != nil {
			return err
		}
	}
	o.mu.Lock()
	o.hits[off]++
	o.mu.Unlock()
	copy(p, o.data[off:])
	return nil
}

func (o *memOrigin) reads() (total, pieces int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range o.hits {
		total += n
	}
	return total, len(o.hits)
}

func makeMetainfo(t *testing.T, data []byte) *metainfo.MetaInfo {
	t.Helper()
	mi, err := MakeFile(context.Background(), writeImage(t, "image.img", data), "", DefaultPieceLength)
	if err != nil {
		t.Fatal(err)
	}
	return mi
}

// TestOriginAlone: a host with no peers takes every piece from the origin,
// each once.
func TestOriginAlone(t *testing.T) {
	const size = 20<<20 + 777
	data := content(size, 7)
	mi := makeMetainfo(t, data)
	o := newMemOrigin(data)
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	s := newSwarm(t, Config{})
	dst := newMemDst(size, data[:8<<20+5])
	f := s.Fetcher(fixedMetainfo(mi), nil).WithOrigin(o.read)
	if err := f.Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(dst.bytes(), data) {
		t.Fatal("dst differs from the image")
	}
	// Six pieces; the first two are below the staged prefix.
	if total, pieces := o.reads(); total != 4 || pieces != 4 {
		t.Errorf("origin read %d times, %d distinct pieces; want 4, 4", total, pieces)
	}
}

// fetchAll runs one fetch per swarm at once, every swarm knowing the
// others, and checks every copy but those of hosts that may fail.
func fetchAll(t *testing.T, data []byte, mi *metainfo.MetaInfo, swarms []*Swarm, origins []Origin, mayFail int, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	var addrs []string
	for _, s := range swarms {
		addrs = append(addrs, peerAddr(s))
	}
	addrs = append(addrs, extra...)
	errs := make([]error, len(swarms))
	dsts := make([]*memDst, len(swarms))
	var wg sync.WaitGroup
	for i, s := range swarms {
		dsts[i] = newMemDst(len(data), nil)
		f := s.Fetcher(fixedMetainfo(mi), fixedPeers(addrs...))
		if origins[i] != nil {
			f = f.WithOrigin(origins[i])
		}
		wg.Go(func() { errs[i] = watched(s, f).Fetch(ctx, request(len(data)), dsts[i]) })
	}
	wg.Wait()
	for i := range swarms {
		if i == mayFail {
			t.Logf("host %d: %v", i, errs[i])
			continue
		}
		if errs[i] != nil {
			t.Errorf("host %d: %v", i, errs[i])
		} else if !bytes.Equal(dsts[i].bytes(), data) {
			t.Errorf("host %d: copy differs from the image", i)
		}
	}
}

// TestOriginSharedBySwarm: hosts that see each other read each piece from
// the origin about once and trade the rest.
func TestOriginSharedBySwarm(t *testing.T) {
	const size = 40 << 20 // ten pieces
	data := content(size, 9)
	mi := makeMetainfo(t, data)
	o := newMemOrigin(data)
	var swarms []*Swarm
	var origins []Origin
	for range 4 {
		swarms = append(swarms, newSwarm(t, Config{}))
		origins = append(origins, o.read)
	}
	fetchAll(t, data, mi, swarms, origins, -1)
	total, pieces := o.reads()
	t.Logf("origin: %d reads of %d pieces for 4 hosts", total, pieces)
	// Four hosts that read everything themselves would make 40 reads.
	if pieces != 10 || total > 20 {
		t.Errorf("origin read %d times (%d distinct pieces); want about 10, at most 20", total, pieces)
	}
}

// TestOriginOwnerFails: the pieces a host cannot read from the origin are
// read by the host ranked next once the patience runs out. (The failing
// host itself may be left alone in the swarm when the others are done; it
// then stalls, and the engine would go on to its next source.)
func TestOriginOwnerFails(t *testing.T) {
	const size = 24 << 20
	data := content(size, 11)
	mi := makeMetainfo(t, data)
	good := newMemOrigin(data)
	bad := newMemOrigin(data)
	bad.fail = func(int64) error { return errors.New("connection refused") }
	const patience = 300 * time.Millisecond
	swarms := []*Swarm{newSwarm(t, Config{StallTimeout: 2 * time.Second, OriginPatience: patience}),
		newSwarm(t, Config{OriginPatience: patience}), newSwarm(t, Config{OriginPatience: patience})}
	fetchAll(t, data, mi, swarms, []Origin{bad.read, good.read, good.read}, 0)
	if total, _ := bad.reads(); total != 0 {
		t.Errorf("the failing origin served %d reads", total)
	}
}

// TestOriginNotWithSeed: while a peer holds every piece, the origin is not
// the swarm's source.
func TestOriginNotWithSeed(t *testing.T) {
	const size = 24 << 20
	src := seedImage(t, size)
	o := newMemOrigin(src.data)
	swarms := []*Swarm{newSwarm(t, Config{}), newSwarm(t, Config{})}
	fetchAll(t, src.data, src.mi, swarms, []Origin{o.read, o.read}, -1, peerAddr(src.s))
	total, _ := o.reads()
	t.Logf("origin: %d reads with a seed in the swarm", total)
	if total >= 6 {
		t.Errorf("origin read %d times with a seed in the swarm", total)
	}
}

// TestRankSpreadsPieces: every host owns some pieces, and every host
// computes the same owner.
func TestRankSpreadsPieces(t *testing.T) {
	ids := make([]torrent.PeerID, 8)
	for i := range ids {
		copy(ids[i][:], "-GT0003-")
		ids[i][19] = byte(i)
	}
	owned := make([]int, len(ids))
	for p := range 256 {
		owners := 0
		for i, id := range ids {
			if rank(id, ids, p) == 0 {
				owned[i]++
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("piece %d has %d owners", p, owners)
		}
	}
	for i, n := range owned {
		if n < 256/8/3 {
			t.Errorf("host %d owns %d of 256 pieces: %v", i, n, owned)
		}
	}
}

// TestOriginQuietSwarm: once the swarm's piece time is known, a fetch
// waits QuietPieces of them for a sign of progress, not only the stall
// timeout: here every piece after the first takes longer than the stall
// timeout to come from the origin, and the fetch still completes.
func TestOriginQuietSwarm(t *testing.T) {
	const size = 3 << 22
	data := content(size, 9)
	mi := makeMetainfo(t, data)
	o := newMemOrigin(data)
	var reads atomic.Int32
	o.fail = func(int64) error {
		if reads.Add(1) == 1 {
			time.Sleep(400 * time.Millisecond) // the piece time: 4 s of quiet allowed
		} else {
			time.Sleep(2600 * time.Millisecond) // longer than the stall timeout
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	s := newSwarm(t, quick(Config{StallTimeout: 2 * time.Second}))
	dst := newMemDst(size, nil)
	if err := watched(s, s.Fetcher(fixedMetainfo(mi), nil).WithOrigin(o.read)).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Equal(dst.bytes(), data) {
		t.Fatal("dst differs from the image")
	}
}
