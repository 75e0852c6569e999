package torrent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"

	"github.com/prestaged/prestaged/fetchers"
)

// testGuard bounds every fetch in these tests. It detects hangs; it is not
// a speed requirement.
const testGuard = 30 * time.Second

// quick has cfg's fetches give a swarm up after their stall timeout alone
// (MinQuiet and QuietFirst as short as can be): for tests that wait for a
// stall, or that test another bound.
func quick(cfg Config) Config {
	cfg.MinQuiet, cfg.QuietFirst = time.Nanosecond, time.Nanosecond
	return cfg
}

// watched wraps f in the stall watchdog the engine wraps every source in,
// with s's stall timeout: the one stall detection a swarm fetch has.
func watched(s *Swarm, f *Fetcher) fetchers.Fetcher {
	return fetchers.WithStallTimeout(f, s.cfg.StallTimeout)
}

func newSwarm(t *testing.T, cfg Config) *Swarm {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func peerAddr(s *Swarm) string { return fmt.Sprintf("127.0.0.1:%d", s.Port()) }

// seeded is an image file, its metainfo and a Swarm seeding it.
type seeded struct {
	data []byte
	path string
	mi   *metainfo.MetaInfo
	s    *Swarm
}

func seedImage(t *testing.T, size int) seeded {
	t.Helper()
	data := content(size, 42)
	path := writeImage(t, "image.img", data)
	mi, err := MakeFile(context.Background(), path, "", DefaultPieceLength)
	if err != nil {
		t.Fatal(err)
	}
	s := newSwarm(t, Config{})
	if err := s.Seed(context.Background(), mi, path); err != nil {
		t.Fatal(err)
	}
	return seeded{data, path, mi, s}
}

func request(size int) fetchers.Request {
	return fetchers.Request{Image: "image", Size: int64(size)}
}

func fixedMetainfo(mi *metainfo.MetaInfo) MetainfoFunc {
	return func(context.Context, fetchers.Request) (*metainfo.MetaInfo, error) { return mi, nil }
}

func fixedPeers(ps ...string) PeersFunc { return func() []string { return ps } }

func TestFetchFromSwarm(t *testing.T) {
	const size = 20<<20 + 777 // six pieces, the last one short
	src := seedImage(t, size)
	tests := []struct {
		name   string
		staged int // bytes in dst before the fetch
		window int // -1: the default random window, else Fetcher.InOrder(window)
	}{
		{"whole image", 0, -1},
		{"resume after two pieces", 8 << 20, -1},
		{"resume inside a piece", 8<<20 + 1000, -1},
		{"only the last piece missing", 20 << 20, -1},
		{"already complete", size, -1},
		{"in order", 0, 2},
		{"in order, resume inside a piece", 8<<20 + 1000, 1},
		{"the client's order", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testGuard)
			defer cancel()
			s := newSwarm(t, Config{})
			dst := newMemDst(size, src.data[:tt.staged])
			f := s.Fetcher(fixedMetainfo(src.mi), fixedPeers(peerAddr(src.s)))
			if tt.window >= 0 {
				f = f.InOrder(tt.window)
			}
			if err := f.Fetch(ctx, request(size), dst); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !bytes.Equal(dst.bytes(), src.data) || dst.Offset() != size {
				t.Fatalf("dst differs from the image (offset %d of %d)", dst.Offset(), size)
			}
			// Whole pieces at or above the staged prefix were fetched;
			// nothing below it was rewritten.
			pieceStart := int64(tt.staged) / DefaultPieceLength * DefaultPieceLength
			written, below := dst.stats()
			if want := int64(size) - int64(tt.staged); written != want || below != 0 {
				t.Errorf("wrote %d bytes (%d below the prefix), want %d (0); pieces from %d",
					written, below, want, pieceStart)
			}
		})
	}
}

// TestFetchThenSeed chains three swarms: the second fetches from the first,
// then seeds its committed blob to the third.
func TestFetchThenSeed(t *testing.T) {
	const size = 12<<20 + 5
	src := seedImage(t, size)
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()

	mid := newSwarm(t, Config{})
	dst := newMemDst(size, nil)
	if err := mid.Fetcher(fixedMetainfo(src.mi), fixedPeers(peerAddr(src.s))).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("first hop: %v", err)
	}
	// The engine commits dst into a blob, then seeds it.
	blob := writeImage(t, "blob", dst.bytes())
	if err := mid.Seed(ctx, src.mi, blob); err != nil {
		t.Fatal(err)
	}
	src.s.Drop(src.mi.HashInfoBytes())

	leaf := newSwarm(t, Config{})
	dst2 := newMemDst(size, nil)
	if err := leaf.Fetcher(fixedMetainfo(src.mi), fixedPeers(peerAddr(mid))).Fetch(ctx, request(size), dst2); err != nil {
		t.Fatalf("second hop: %v", err)
	}
	if !bytes.Equal(dst2.bytes(), src.data) {
		t.Fatal("second hop differs from the image")
	}
}

func TestFetchErrors(t *testing.T) {
	const size = 5<<20 + 1
	data := content(size, 3)
	mi, err := Make(bytes.NewReader(data), size, "image.img", DefaultPieceLength)
	if err != nil {
		t.Fatal(err)
	}
	notFound := func(context.Context, fetchers.Request) (*metainfo.MetaInfo, error) {
		return nil, fmt.Errorf("no torrent_url: %w", fetchers.ErrNotFound)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		meta      MetainfoFunc
		size      int
		dst       fetchers.Dst
		want      error
		permanent bool
	}{
		{"no metainfo", context.Background(), notFound, size, newMemDst(size, nil), fetchers.ErrNotFound, true},
		{"metainfo longer than image", context.Background(), fixedMetainfo(mi), size - 1, newMemDst(size-1, nil), fetchers.ErrTooLong, true},
		{"metainfo shorter than image", context.Background(), fixedMetainfo(mi), size + 1, newMemDst(size+1, nil), fetchers.ErrTooShort, false},
		{"no peers: stall", context.Background(), fixedMetainfo(mi), size, newMemDst(size, nil), fetchers.ErrStalled, false},
		{"cancelled", cancelled, fixedMetainfo(mi), size, newMemDst(size, nil), context.Canceled, false},
	}
	s := newSwarm(t, quick(Config{StallTimeout: 300 * time.Millisecond}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := watched(s, s.Fetcher(tt.meta, nil)).Fetch(tt.ctx, request(tt.size), tt.dst)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || fetchers.IsPermanent(err) != tt.permanent {
				t.Errorf("Fetch: %v (permanent %v), want %v (permanent %v)",
					err, fetchers.IsPermanent(err), tt.want, tt.permanent)
			}
		})
	}
}

func TestSeedRejects(t *testing.T) {
	data := content(3<<20, 4)
	path := writeImage(t, "image.img", data)
	mi, err := MakeFile(context.Background(), path, "", DefaultPieceLength)
	if err != nil {
		t.Fatal(err)
	}
	other := writeImage(t, "image.img", data[:1<<20])
	s := newSwarm(t, Config{})
	if err := s.Seed(context.Background(), mi, path); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want error // nil: success
	}{
		{"same blob again", path, nil},
		{"same torrent, other path", other + "x", ErrBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Seed(context.Background(), mi, tt.path)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Seed: %v, want %v", err, tt.want)
			}
		})
	}
	s.Drop(mi.HashInfoBytes())
	if err := s.Seed(context.Background(), mi, other); err == nil {
		t.Error("Seed of a blob shorter than the metainfo succeeded")
	}
}

// TestFetchCorruptSeeder: a seeder whose blob differs from the metainfo in
// one piece. The fetcher never writes that piece to dst (its SHA-1 fails),
// bans the seeder and stalls; a second fetch from a good seeder resumes from
// the complete prefix in dst.
func TestFetchCorruptSeeder(t *testing.T) {
	const size = 16<<20 + 10
	good := seedImage(t, size)
	bad := append([]byte(nil), good.data...)
	bad[DefaultPieceLength+5] ^= 0xff // piece 1
	badPath := writeImage(t, "image.img", bad)
	badSeed := newSwarm(t, Config{})
	if err := badSeed.Seed(context.Background(), good.mi, badPath); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()

	dst := newMemDst(size, nil)
	first := newSwarm(t, quick(Config{StallTimeout: 3 * time.Second}))
	err := watched(first, first.Fetcher(fixedMetainfo(good.mi), fixedPeers(peerAddr(badSeed)))).Fetch(ctx, request(size), dst)
	if !errors.Is(err, fetchers.ErrStalled) || fetchers.IsPermanent(err) {
		t.Fatalf("Fetch from a corrupt seeder: %v, want a retryable ErrStalled", err)
	}
	// Pieces come in random order, and the seeder is banned at its first bad
	// piece: piece 0 may or may not have landed before.
	got, prefix := dst.bytes(), dst.Offset()
	if prefix > DefaultPieceLength {
		t.Errorf("complete prefix %d reaches past the corrupt piece at %d", prefix, DefaultPieceLength)
	}
	if !bytes.Equal(got[DefaultPieceLength:2*DefaultPieceLength], make([]byte, DefaultPieceLength)) {
		t.Error("bytes of the piece that failed its hash reached dst")
	}
	written, _ := dst.stats()

	second := newSwarm(t, Config{})
	if err := second.Fetcher(fixedMetainfo(good.mi), fixedPeers(peerAddr(good.s))).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("resume from a good seeder: %v", err)
	}
	if !bytes.Equal(dst.bytes(), good.data) {
		t.Fatal("dst differs from the image after the resume")
	}
	// Only the complete prefix (piece 0) counts as staged: pieces that
	// landed beyond the gap may be fetched again, but no byte is rewritten
	// below the prefix of the moment.
	total, below := dst.stats()
	if second := total - written; second > size-prefix || below != 0 {
		t.Errorf("resume wrote %d bytes (%d below the prefix); want at most %d (0)",
			second, below, size-prefix)
	}
}

func TestNewConfig(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"loopback, any port", Config{Listen: "127.0.0.1:0"}, false},
		{"upload limit and tracker", Config{Listen: "127.0.0.1:0", UploadLimit: 100 << 20, Tracker: "http://127.0.0.1:1/announce"}, false},
		{"no port", Config{Listen: "127.0.0.1"}, true},
		{"invalid port", Config{Listen: "127.0.0.1:-1"}, true},
		{"port taken", Config{Listen: taken.Addr().String()}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New: %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer s.Close()
			if s.Port() == 0 || s.Addr() == nil {
				t.Errorf("listening on port %d (%v)", s.Port(), s.Addr())
			}
		})
	}
}

// TestNoFilesBesideImage: a Swarm writes nothing to its working directory
// (anacrolix's default storage would create a piece-completion database).
func TestNoFilesBesideImage(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	src := seedImage(t, 5<<20)
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	s := newSwarm(t, Config{})
	if err := s.Fetcher(fixedMetainfo(src.mi), fixedPeers(peerAddr(src.s))).Fetch(ctx, request(5<<20), newMemDst(5<<20, nil)); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("working directory holds %v (%v), want nothing", ents, err)
	}
}

// TestFetchSlowPieceIsNoStall: a seeder so slow that a piece takes longer
// than the stall timeout. Blocks keep arriving, so the stall watchdog
// around it (fetchers.WithStallTimeout, as the engine runs every source)
// must not give up on it.
func TestFetchSlowPieceIsNoStall(t *testing.T) {

	const size = int(DefaultPieceLength) + 10 // one whole piece, then 10 bytes
	data := content(size, 43)
	path := writeImage(t, "image.img", data)
	mi, err := MakeFile(context.Background(), path, "", DefaultPieceLength)
	if err != nil {
		t.Fatal(err)
	}
	const stall = time.Second
	seed := newSwarm(t, Config{UploadLimit: 1 << 20}) // the first piece: about 4 s
	if err := seed.Seed(context.Background(), mi, path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	dst := newMemDst(size, nil)
	// The piece takes about 4 s, less than MinQuiet.
	f := newSwarm(t, quick(Config{StallTimeout: stall})).Fetcher(fixedMetainfo(mi), fixedPeers(peerAddr(seed)))
	if err := fetchers.WithStallTimeout(f, stall).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("fetch from a slow seeder: %v", err)
	}
	if !bytes.Equal(dst.bytes(), data) {
		t.Fatal("fetched bytes differ from the image")
	}
}

// TestFetchRetriesMetainfo: a metainfo that cannot be had for a moment
// (a GET of the torrent_url timed out) is asked for again, and the fetch
// goes on in the swarm; one that stays away fails the fetch, retryable,
// once the stall timeout has passed, with the last try's error.
func TestFetchRetriesMetainfo(t *testing.T) {
	const size = 5<<20 + 1
	src := seedImage(t, size)
	errLost := errors.New("torrent_url: context deadline exceeded")
	flaky := func(fails int, calls *atomic.Int32) MetainfoFunc {
		return func(context.Context, fetchers.Request) (*metainfo.MetaInfo, error) {
			if int(calls.Add(1)) <= fails {
				return nil, errLost
			}
			return src.mi, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()

	var calls atomic.Int32
	dst := newMemDst(size, nil)
	s := newSwarm(t, Config{StallTimeout: 5 * time.Second, MetainfoRetry: 10 * time.Millisecond, MetainfoRetryMax: 20 * time.Millisecond})
	if err := s.Fetcher(flaky(2, &calls), fixedPeers(peerAddr(src.s))).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("Fetch after two lost metainfo requests: %v", err)
	}
	if !bytes.Equal(dst.bytes(), src.data) || calls.Load() != 3 {
		t.Errorf("asked for the metainfo %d times, want 3; image fetched: %v", calls.Load(), bytes.Equal(dst.bytes(), src.data))
	}

	calls.Store(0)
	s = newSwarm(t, Config{StallTimeout: 300 * time.Millisecond, MetainfoRetry: 10 * time.Millisecond,
		MetainfoRetryMax: 20 * time.Millisecond, MetainfoPatience: time.Nanosecond})
	err := s.Fetcher(flaky(1<<30, &calls), nil).Fetch(ctx, request(size), newMemDst(size, nil))
	if !errors.Is(err, errLost) || fetchers.IsPermanent(err) || calls.Load() < 2 {
		t.Errorf("Fetch with the metainfo always lost: %v (permanent %v) after %d tries, want %v, retryable, after several",
			err, fetchers.IsPermanent(err), calls.Load(), errLost)
	}
}

// TestMetainfoRetryFeedsWatchdog: tries of a lost metainfo keep the
// engine's stall watchdog, set to the same stall timeout, from ending the
// fetch while a try may still get an answer, even a try longer than the
// stall timeout.
func TestMetainfoRetryFeedsWatchdog(t *testing.T) {
	const size = 5<<20 + 1
	const stall = time.Second
	src := seedImage(t, size)
	var calls atomic.Int32
	slow := func(ctx context.Context, _ fetchers.Request) (*metainfo.MetaInfo, error) {
		first := calls.Add(1) == 1
		took := stall * 7 / 10 // most of a stall timeout
		if first {
			took = 2 * stall // a GET that times out after more than one
		}
		select {
		case <-time.After(took):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if first {
			return nil, errors.New("torrent_url: context deadline exceeded")
		}
		return src.mi, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	s := newSwarm(t, Config{StallTimeout: stall, MetainfoRetry: 10 * time.Millisecond, MetainfoRetryMax: 20 * time.Millisecond})
	f := fetchers.WithStallTimeout(s.Fetcher(slow, fixedPeers(peerAddr(src.s))), stall)
	dst := newMemDst(size, nil)
	if err := f.Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("Fetch whose first metainfo try outlasts the stall timeout: %v", err)
	}
	if !bytes.Equal(dst.bytes(), src.data) || calls.Load() != 2 {
		t.Errorf("asked for the metainfo %d times, want 2; image fetched: %v", calls.Load(), bytes.Equal(dst.bytes(), src.data))
	}
}

// TestMetainfoPatience: a metainfo lost for longer than a short stall
// timeout (a busy mirror's link dropping the GETs) is still asked for, up to
// Config.MetainfoPatience, while the engine's watchdog is fed; past it the fetch
// fails.
func TestMetainfoPatience(t *testing.T) {
	const patience = 2 * time.Second
	const size = 5<<20 + 1
	const stall = 300 * time.Millisecond
	src := seedImage(t, size)
	lostFor := func(d time.Duration) MetainfoFunc {
		var first atomic.Int64
		return func(context.Context, fetchers.Request) (*metainfo.MetaInfo, error) {
			first.CompareAndSwap(0, time.Now().UnixNano())
			if time.Since(time.Unix(0, first.Load())) < d {
				return nil, errors.New("torrent_url: context deadline exceeded")
			}
			return src.mi, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	for _, c := range []struct {
		lost time.Duration
		ok   bool
	}{
		{4 * stall, true},
		{3 * patience, false},
	} {
		s := newSwarm(t, Config{StallTimeout: stall, MetainfoRetry: 10 * time.Millisecond,
			MetainfoRetryMax: 20 * time.Millisecond, MetainfoPatience: patience})
		f := fetchers.WithStallTimeout(s.Fetcher(lostFor(c.lost), fixedPeers(peerAddr(src.s))), stall)
		err := f.Fetch(ctx, request(size), newMemDst(size, nil))
		if (err == nil) != c.ok {
			t.Errorf("metainfo lost for %v: Fetch = %v, want success %v", c.lost, err, c.ok)
		}
	}
}

// TestMinQuiet: a seed that sends nothing for longer than a short stall
// timeout, as anacrolix's writer may for up to WriterWake, is waited for
// up to MinQuiet, with the engine's watchdog fed meanwhile.
func TestMinQuiet(t *testing.T) {
	const size = 5<<20 + 1
	const stall = 300 * time.Millisecond
	src := seedImage(t, size)
	var once sync.Once
	testHookRead = func() { once.Do(func() { time.Sleep(1500 * time.Millisecond) }) }
	t.Cleanup(func() { testHookRead = nil })
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()
	dst := newMemDst(size, nil)
	f := newSwarm(t, Config{StallTimeout: stall, MinQuiet: 3 * time.Second}).Fetcher(fixedMetainfo(src.mi), fixedPeers(peerAddr(src.s)))
	if err := fetchers.WithStallTimeout(f, stall).Fetch(ctx, request(size), dst); err != nil {
		t.Fatalf("fetch from a seed quiet for 1.5 s, stall timeout %v: %v", stall, err)
	}
	if !bytes.Equal(dst.bytes(), src.data) {
		t.Fatal("fetched bytes differ from the image")
	}
}

// TestStallSaysWhomItSaw: a fetch the watchdog stalls logs whom it saw,
// telling a host that no peer reached from one whose peers hold nothing.
func TestStallSaysWhomItSaw(t *testing.T) {
	const size = 5<<20 + 1
	mi, err := Make(bytes.NewReader(content(size, 5)), size, "image.img", DefaultPieceLength)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testGuard)
	defer cancel()

	events, logged := eventLog()
	alone := newSwarm(t, quick(Config{StallTimeout: 300 * time.Millisecond, Events: events}))
	err = watched(alone, alone.Fetcher(fixedMetainfo(mi), nil)).Fetch(ctx, request(size), newMemDst(size, nil))
	if !errors.Is(err, fetchers.ErrStalled) || !strings.Contains(logged(), "(no peer connected)") {
		t.Errorf("Fetch with no peer: %v, logged %q; want a stall with no peer connected", err, logged())
	}

	// A host whose one peer waits too, and outlives it.
	a := newSwarm(t, quick(Config{StallTimeout: 2 * time.Second, Events: events}))
	b := newSwarm(t, Config{StallTimeout: testGuard})
	bctx, bcancel := context.WithCancel(ctx)
	bdone := make(chan struct{})
	go func() {
		defer close(bdone)
		b.Fetcher(fixedMetainfo(mi), fixedPeers(peerAddr(a))).Fetch(bctx, request(size), newMemDst(size, nil))
	}()
	defer func() { bcancel(); <-bdone }()
	err = watched(a, a.Fetcher(fixedMetainfo(mi), fixedPeers(peerAddr(b)))).Fetch(ctx, request(size), newMemDst(size, nil))
	if !errors.Is(err, fetchers.ErrStalled) || !strings.Contains(logged(), "(peers connected: 1, holding 0 pieces in all)") {
		t.Errorf("Fetch from a peer holding nothing: %v, logged %q; want a stall naming one peer and no pieces", err, logged())
	}
}

// eventLog is a Swarm's Events logger and what it logged so far.
func eventLog() (*slog.Logger, func() string) {
	var mu sync.Mutex
	var lines []string
	h := slog.NewTextHandler(writeFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, string(p))
		return len(p), nil
	}), nil)
	return slog.New(h), func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "")
	}
}

type writeFunc func(p []byte) (int, error)

func (f writeFunc) Write(p []byte) (int, error) { return f(p) }
