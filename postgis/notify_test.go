package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// TestChangesAreAnnounced: an area import, an ingest and a finished engine run each
// reach a listener, named by their table; a run that has only started does not.
func TestChangesAreAnnounced(t *testing.T) {
	db := openDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tables := make(chan string, 1000)
	go db.ListenForChanges(ctx, func(table string) { tables <- table }, func(err error) { t.Logf("listening: %v", err) })
	// next returns the next table announced, within a minute.
	next := func(after string) string {
		t.Helper()
		select {
		case tb := <-tables:
			return tb
		case <-time.After(time.Minute):
			t.Fatalf("nothing announced within a minute of %s", after)
			return ""
		}
	}
	// until reads announcements until want, failing on any in unwanted.
	until := func(want, after string, unwanted ...string) {
		t.Helper()
		for {
			tb := next(after)
			if tb == want {
				return
			}
			for _, u := range unwanted {
				if tb == u {
					t.Fatalf("%s announced after %s", tb, after)
				}
			}
		}
	}
	if tb := next("listening"); tb != "" {
		t.Fatalf("first call %q; want the connection's own (\"\")", tb)
	}
	g := demo(t, 200)
	importDemoAreas(t, db, g)
	until("areas", "the area import")
	p := newPipeline(t, db, geo.Defaults{})
	if _, err := p.ingest(ctx, t, g.Reader(), 100); err != nil {
		t.Fatal(err)
	}
	until("incidents", "the ingest")
	var run int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO engine_runs (as_of, trigger) VALUES ('2026-04-01', 'test') RETURNING id`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in commit order: a change to the areas after the run's start
	// comes after any announcement of that start.
	if _, err := db.Pool.Exec(ctx, `UPDATE areas SET name = name WHERE false`); err != nil {
		t.Fatal(err)
	}
	until("areas", "a run's start", "engine_runs")
	if _, err := db.Pool.Exec(ctx, `UPDATE engine_runs SET status = 'done', finished_at = now() WHERE id = $1`, run); err != nil {
		t.Fatal(err)
	}
	until("engine_runs", "a finished run")
}
