package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/web"
)

// gatedStore is the real store whose cell counts wait, while a gate is set, until it
// is opened: a render the test holds as long as it likes.
type gatedStore struct {
	*postgis.DB
	gate atomic.Pointer[chan struct{}]
}

func (s *gatedStore) wait(ctx context.Context) error {
	if g := s.gate.Load(); g != nil {
		select {
		case <-*g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// CellTotals (a whole resolution) and CellTotalsIn (a tile's own cells) both wait:
// a tile reads one or the other.
func (s *gatedStore) CellTotals(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.DB.CellTotals(ctx, res, f)
}

func (s *gatedStore) CellTotalsIn(ctx context.Context, res int, cells []uint64, f geo.Filter) ([]geo.CellCount, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.DB.CellTotalsIn(ctx, res, cells, f)
}

func (s *gatedStore) hold() func() {
	g := make(chan struct{})
	s.gate.Store(&g)
	return func() { s.gate.Store(nil); close(g) }
}

// withStore returns a copy of the environment whose requests go to another server
// over the same database, built with the store and options given.
func (e *env) withStore(store web.Store, log *slog.Logger, reg *prometheus.Registry, mod func(*web.Options)) *env {
	o := e.opts
	if mod != nil {
		mod(&o)
	}
	srv := web.New(o, store, newIngester(e.t, e.db), log, reg)
	ts := httptest.NewServer(srv)
	e.t.Cleanup(ts.Close)
	c := *e
	c.srv, c.ts, c.opts = srv, ts, o
	return &c
}

// TestTileSlowRenderDegrades: a tile whose render outlasts the server's wait is
// answered at once: with its previous version marked stale (and not kept by the
// browser) when one is held, else a 503 with Retry-After; the render goes on and
// its tile is served once done.
func TestTileSlowRenderDegrades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	store := &gatedStore{DB: e.db}
	var logged syncBuffer
	s := e.withStore(store, slog.New(slog.NewTextHandler(&logged, nil)), nil, func(o *web.Options) { o.TileWait = 20 * time.Millisecond })
	police := s.as(access.Police)
	_, path := tileAt("hotspots", -0.76, 52.04, 12)
	_, other := tileAt("hotspots", -0.70, 52.00, 12)

	// With so short a wait even an unheld render may not finish in time on a busy
	// machine: ask until it has.
	first := s.getDrawn(police, path)
	if first.status != 200 || first.header.Get("Tensionmap-Stale") != "" {
		t.Fatalf("first: %s, stale %q; want 200, fresh", first, first.header.Get("Tensionmap-Stale"))
	}
	open := store.hold()
	defer func() {
		if store.gate.Load() != nil {
			open()
		}
	}()
	// New data: the next tile is of a new version, whose render is held.
	partner, _ := s.token(access.Partner, "third_party")
	if r := s.send(partner, "POST", "/api/v1/incidents", []map[string]any{intakeRecord("slow-tile-1")}); r.status != 200 {
		t.Fatalf("intake: %s", r)
	}
	stale := s.get(police, path)
	if stale.status != 200 || stale.header.Get("Tensionmap-Stale") != "true" || stale.header.Get("ETag") != first.header.Get("ETag") {
		t.Fatalf("held render: %s, stale %q, ETag %q; want the first tile (ETag %q) marked stale", stale,
			stale.header.Get("Tensionmap-Stale"), stale.header.Get("ETag"), first.header.Get("ETag"))
	}
	if cc := stale.header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
		t.Errorf("stale tile Cache-Control %q; want no-cache", cc)
	}
	busy := s.get(police, other)
	if busy.status != 503 || busy.header.Get("Retry-After") != "2" || !strings.Contains(busy.message(t), "still being drawn") {
		t.Fatalf("a tile never drawn, its render held: %s, Retry-After %q; want 503 with Retry-After 2", busy, busy.header.Get("Retry-After"))
	}
	open()
	// The render finishes in the background: the fresh tile comes without the mark.
	if r := s.getDrawn(police, path); r.status != 200 || r.header.Get("ETag") == first.header.Get("ETag") {
		t.Fatalf("after the release: %s, ETag %q; want the new version", r, r.header.Get("ETag"))
	}
	if r := s.getDrawn(police, other); r.status != 200 && r.status != 204 {
		t.Errorf("the other tile after the release: %s", r)
	}
	// The operator is told of the renders past the wait, and where their time went:
	// the held read of the tile's counts (its own cells', or those the new report
	// touched, carried over).
	slow := regexp.MustCompile(`level=WARN msg="tile render past the tile wait" layer=hotspots tile=12/\d+/\d+ filter=\S* steps="[^"]*counts \d`)
	if !slow.MatchString(logged.String()) {
		t.Errorf("no warning of a slow render with its steps in the log:\n%s", logged.String())
	}
}

// getDrawn asks for a tile until it comes fresh, not stale and not "still being
// drawn", for up to a minute.
func (e *env) getDrawn(c caller, path string) *resp {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r := e.get(c, path)
		if r.status != 503 && r.header.Get("Tensionmap-Stale") == "" {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: still not drawn after a minute: %s", path, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCachedTilesLogQuietly: a tile served from the cache writes no info line (one in
// a thousand does, marked as standing for the rest), while a rendered one and every
// request in the metrics are counted as before.
func TestCachedTilesLogQuietly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := prometheus.NewRegistry()
	s := e.withStore(e.db, log, reg, nil)
	police := s.as(access.Police)
	_, path := tileAt("hotspots", -0.76, 52.04, 12)
	const n = 30
	for i := range n {
		if r := s.get(police, path); r.status != 200 {
			t.Fatalf("request %d: %s", i, r)
		}
	}
	var lines, sampled int
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "msg=request") && strings.Contains(l, "/tiles/hotspots/") {
			lines++
			if strings.Contains(l, "sampled=1000") {
				sampled++
			}
		}
	}
	// The render, and the first cached answer standing for a thousand.
	if lines != 2 || sampled != 1 {
		t.Errorf("%d info lines for %d tile requests, %d of them sampled; want 2, 1 sampled:\n%s", lines, n, sampled, buf.String())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var counted float64
	for _, mf := range mfs {
		if mf.GetName() != "tensionmap_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && strings.HasPrefix(l.GetValue(), "/tiles/hotspots/") {
					counted += m.GetCounter().GetValue()
				}
			}
		}
	}
	if counted != n {
		t.Errorf("metrics counted %v tile requests; want %d", counted, n)
	}
}

// TestRequestIDs: every access log line names its request's id: the X-Request-Id a
// proxy gave, or the server's own, apart for each request; an overlong given id is
// not taken.
func TestRequestIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := e.withStore(e.db, log, nil, nil)
	police := s.as(access.Police)
	long := strings.Repeat("x", 129)
	s.get(police, "/api/v1/me")
	s.get(police, "/api/v1/me")
	s.get(police, "/api/v1/me", "X-Request-Id", "edge-7f3a")
	s.get(police, "/api/v1/me", "X-Request-Id", long)
	ids := regexp.MustCompile(`msg=request .*path=/api/v1/me .*request_id=(\S+)`).FindAllStringSubmatch(buf.String(), -1)
	if len(ids) != 4 {
		t.Fatalf("%d access lines for /api/v1/me; want 4:\n%s", len(ids), buf.String())
	}
	own := regexp.MustCompile(`^\S+/\S+-\d{6}$`)
	if !own.MatchString(ids[0][1]) || !own.MatchString(ids[1][1]) || ids[0][1] == ids[1][1] {
		t.Errorf("the server's ids %q and %q; want two different host/random-000001 ids", ids[0][1], ids[1][1])
	}
	if ids[2][1] != "edge-7f3a" {
		t.Errorf("given id logged as %q; want edge-7f3a", ids[2][1])
	}
	if !own.MatchString(ids[3][1]) {
		t.Errorf("an overlong given id logged as %q; want the server's own", ids[3][1])
	}
}
