package postgis_test

import (
	"context"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
)

// TestMarkInterruptedRuns checks that a run left running by a process that died is
// marked interrupted, and a live run, whose lock is held, is not.
func TestMarkInterruptedRuns(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	var dead int64
	// A run whose process died: its row says running, and no session holds its lock.
	if err := db.Pool.QueryRow(ctx, `INSERT INTO ingest_runs (origin) VALUES ('cli') RETURNING id`).Scan(&dead); err != nil {
		t.Fatal(err)
	}
	live, err := db.StartRun(ctx, "cli", "test", []string{"live.csv"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.MarkInterruptedRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("marked %d runs, want 1 (the dead one)", n)
	}
	status := func(id int64) string {
		var s string
		if err := db.Pool.QueryRow(ctx, `SELECT status FROM ingest_runs WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := status(dead); got != "interrupted" {
		t.Errorf("dead run is %q, want interrupted", got)
	}
	if got := status(live); got != "running" {
		t.Errorf("live run is %q, want running", got)
	}
	if err := db.FinishRun(ctx, live, geo.Summary{Read: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if got := status(live); got != "done" {
		t.Errorf("finished run is %q, want done", got)
	}
	// The finished run's lock is released: a later start marks nothing.
	if n, err := db.MarkInterruptedRuns(ctx); err != nil || n != 0 {
		t.Errorf("second pass marked %d (%v), want 0", n, err)
	}
}

// TestImportNoAreasKeepsDataVersion checks that an areas import that imports
// nothing does not bump the data version.
func TestImportNoAreasKeepsDataVersion(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	before, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.ImportAreas(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted+res.Updated != 0 || after != before {
		t.Errorf("import of no areas: %+v, data version %d -> %d; want nothing imported and the version kept", res, before, after)
	}
}
