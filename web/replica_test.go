package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/postgis/pgtest"
	"github.com/tensionmap/tensionmap/web"
	"github.com/uber/h3-go/v4"
)

// TestReplicasLearnOfNewDataByNotify: a primary and a streaming replica (made with
// pg_basebackup -R), and two servers that each write to the primary, read their
// tiles from the replica and listen for the primary's announcements. An incident
// taken in by one is on the other's tiles once the announcement arrives; a third
// server that does not listen keeps showing what it had, so the news travelled by
// NOTIFY and not by asking again.
func TestReplicasLearnOfNewDataByNotify(t *testing.T) {
	primaryURL, replicaURL := pgtest.Replicated(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	open := func(url string) *postgis.DB {
		db, err := postgis.Open(ctx, url, postgis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	primary := open(primaryURL)
	if _, err := primary.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	g, err := synth.New(synth.Options{Seed: 11, Rows: testRows, Years: 2, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := primary.ImportAreas(ctx, g.GeoAreas()); err != nil {
		t.Fatal(err)
	}
	if _, err := primary.SetPopulation(ctx, g.Populations()); err != nil {
		t.Fatal(err)
	}
	if sum, err := newIngester(t, primary).Ingest(ctx, g.Reader(), geo.Defaults{}, "cli:test", nil); err != nil || sum.Inserted != testRows {
		t.Fatalf("loading the town: %v, %v", sum, err)
	}
	replica := open(replicaURL)
	var standby bool
	if err := replica.Pool.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby); err != nil || !standby {
		t.Fatalf("the replica is not a standby: %v, %v", standby, err)
	}
	// The replica cannot tell the data version itself (the sequence is logged ahead
	// in steps of 32), which is why Replica takes it from the primary.
	if p, _ := primary.DataVersion(ctx); p == 0 {
		t.Fatal("no data version on the primary after loading")
	}

	o := web.Options{Version: "test", Strands: geo.DefaultStrands, Sources: geo.DefaultSources, SessionTTL: testSessionTTL,
		Unavailable: postgis.Unavailable, Now: func() time.Time { return testNow }, VersionTTL: -1}
	start := func(listen bool) *env {
		// Each server has its own pools, as separate processes would.
		writes, reads := open(primaryURL), open(replicaURL)
		so := o
		so.Reads = &postgis.Replica{DB: reads, Primary: writes}
		srv := web.New(so, writes, newIngester(t, writes), slog.New(slog.DiscardHandler), nil)
		if listen {
			go writes.ListenForChanges(ctx, func(string) { srv.DataChanged() }, func(err error) { t.Logf("listening: %v", err) })
		}
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		return &env{t: t, ctx: ctx, db: writes, srv: srv, ts: ts, opts: so, gen: g, users: map[access.Role]*access.User{},
			client: &http.Client{CheckRedirect: noRedirect}}
	}
	a, b, deaf := start(true), start(true), start(false)
	a.users[access.Police] = a.createUser("police", access.Police)
	for _, e := range []*env{b, deaf} {
		e.users = a.users
	}
	police := a.as(access.Police)
	tile, path := tileAt("hotspots", -0.76, 52.04, 12)
	target := h3.LatLngToCell(h3.NewLatLng(52.04, -0.76), 8)
	countAt := func(e *env) int {
		r := e.getDrawn(police, path)
		for _, f := range decodeTile(t, r, tile, "hotspots") {
			if featureID(t, f) == uint64(target) {
				n, _ := num(f, "count")
				return n
			}
		}
		return 0
	}
	before := countAt(b)
	if n := countAt(deaf); n != before {
		t.Fatalf("two servers over one replica disagree: %d and %d", before, n)
	}

	partner, _ := a.token(access.Partner, "third_party")
	rec := intakeRecord("replica-notify-1", "precision", "exact")
	ll := target.LatLng()
	rec["lat"], rec["lon"] = ll.Lat, ll.Lng
	if r := a.send(partner, "POST", "/api/v1/incidents", []map[string]any{rec}); r.status != 200 {
		t.Fatalf("intake on the first server: %s", r)
	}
	waitFor(t, "the second server's tile to count the new incident", func() bool { return countAt(b) == before+1 })
	if n := countAt(a); n != before+1 {
		t.Errorf("the first server counts %d, want %d", n, before+1)
	}
	if n := countAt(deaf); n != before {
		t.Errorf("a server that does not listen counts %d: it should still show %d until told", n, before)
	}
}

// waitFor polls cond until it holds, for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
