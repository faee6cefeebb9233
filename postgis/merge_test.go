package postgis_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

// rollupKeys are the tables whose rows are summed by key, with their keys.
var rollupKeys = map[string]string{
	"cell_day_counts":    "res, day, cell, class",
	"cell_month_counts":  "res, month, cell, class",
	"cell_year_counts":   "res, year, cell, class",
	"cell_year_strands":  "res, year, cell, class",
	"set_day_counts":     "day, area_set, class",
	"day_counts":         "day, class",
	"area_prefix_counts": "area_id, node",
}

// extraRows returns, per roll-up table, how many rows it holds beyond one a key.
func extraRows(tb testing.TB, db *postgis.DB) map[string]int64 {
	tb.Helper()
	out := map[string]int64{}
	for t, key := range rollupKeys {
		out[t] = count(tb, db, "SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT "+key+" FROM "+t+") k) FROM "+t)
	}
	return out
}

// reads are the counts the service answers from the roll-ups, for comparing them
// before and after a merge.
type reads struct {
	Areas          map[string][]geo.AreaCount
	Cells6, Cells7 []geo.CellCount
	Total, Located int64
	Weekly         []int
}

func readAll(tb testing.TB, db *postgis.DB) reads {
	tb.Helper()
	ctx := context.Background()
	var r reads
	var err error
	levels, err := db.AreaLevels(ctx)
	if err != nil || len(levels) == 0 {
		tb.Fatalf("levels %v: %v", levels, err)
	}
	r.Areas = map[string][]geo.AreaCount{}
	year := geo.Filter{From: testEnd.AddDate(-1, 0, 3), To: testEnd.AddDate(0, 0, -9)}
	for _, l := range levels {
		if r.Areas[l], err = db.AreaCounts(ctx, l, year); err != nil {
			tb.Fatal(err)
		}
	}
	if r.Cells6, err = db.CellCounts(ctx, 6, year); err != nil {
		tb.Fatal(err)
	}
	if r.Cells7, err = db.CellCounts(ctx, 7, geo.Filter{}); err != nil {
		tb.Fatal(err)
	}
	if r.Total, r.Located, err = db.Totals(ctx, year); err != nil {
		tb.Fatal(err)
	}
	if len(r.Cells6) == 0 {
		tb.Fatal("no cell counts: the data did not load")
	}
	if r.Weekly, err = db.WeeklyCounts(ctx, geo.Place{Cell: r.Cells6[0].Cell}, geo.Filter{}, testEnd, 104); err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestRollupMergeKeepsCounts checks the append-only roll-ups: batches add rows to
// keys that already have some, every read sums them to the exact count, a merge
// leaves one row a key and changes no read, merges running while two ingests store
// batches lose and double nothing, an ingest run over recent days merges its own
// rows as it ends, and one over years its yearly rows and tree nodes.
func TestRollupMergeKeepsCounts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 6000)
	importDemoAreas(t, db, g)

	// Small batches over two years: many keys get a row from several batches.
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, &halfReader{r: g.Reader(), odd: 0}, 150); err != nil {
		t.Fatal(err)
	}
	extra := extraRows(t, db)
	if extra["area_prefix_counts"] == 0 || extra["day_counts"] == 0 {
		t.Fatalf("rows beyond one a key before merging: %v; the test needs some", extra)
	}
	checkRollups(t, db, geo.DefaultResolutions)
	before := readAll(t, db)
	if err := db.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	for tbl, n := range extraRows(t, db) {
		if n != 0 {
			t.Errorf("after a merge %s holds %d rows beyond one a key", tbl, n)
		}
	}
	checkRollups(t, db, geo.DefaultResolutions)
	if after := readAll(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("reads differ after a merge:\nbefore %+v\nafter  %+v", before, after)
	}

	// Merges while two ingests of the other half store their batches.
	var stop atomic.Bool
	merges := make(chan int)
	go func() {
		n := 0
		for !stop.Load() {
			if err := db.CompactRollups(ctx); err != nil {
				t.Error(err)
				break
			}
			n++
		}
		merges <- n
	}()
	var wg sync.WaitGroup
	var inserted atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, &halfReader{r: g.Reader(), odd: 1}, 100)
			if err != nil {
				t.Error(err)
			}
			inserted.Add(int64(s.Inserted))
		}()
	}
	wg.Wait()
	stop.Store(true)
	if n := <-merges; n == 0 {
		t.Error("no merge ran during the ingests")
	}
	if got := inserted.Load(); got != 3000 {
		t.Errorf("the second ingests stored %d, want 3000", got)
	}
	if got := count(t, db, "SELECT count(*) FROM incidents"); got != 6000 {
		t.Fatalf("%d incidents stored, want 6000", got)
	}
	checkRollups(t, db, geo.DefaultResolutions)

	// A run over recent days, as the command line runs it, merges its own rows.
	if err := db.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM incidents WHERE occurred_from > $1`, testEnd.AddDate(0, 0, -30)); err != nil {
		t.Fatal(err)
	}
	if err := db.RebuildRollups(ctx, geo.DefaultResolutions); err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, db, geo.Defaults{})
	p.compact = true
	recent := &dayReader{r: g.Reader(), from: testEnd.AddDate(0, 0, -29)}
	s, err := p.ingest(ctx, t, recent, 20)
	if err != nil {
		t.Fatal(err)
	}
	if s.Inserted == 0 || s.Inserted > 1000 {
		t.Fatalf("the recent run stored %d", s.Inserted)
	}
	for tbl, n := range extraRows(t, db) {
		if n != 0 {
			t.Errorf("after a run over %d recent reports %s holds %d rows beyond one a key", s.Inserted, tbl, n)
		}
	}
	checkRollups(t, db, geo.DefaultResolutions)

	// Single reports, each a run of its own as the intake stores them: their rows go
	// in as plain inserts and are merged in one round trip.
	recent = &dayReader{r: g.Reader(), from: testEnd.AddDate(0, 0, -29)}
	for i := range 8 {
		raw, err := recent.Next()
		if err != nil {
			t.Fatal(err)
		}
		again := *raw
		again.SourceRef += fmt.Sprintf("-again-%d", i)
		s, err := p.ingest(ctx, t, &oneReader{raw: &again}, 0)
		if err != nil || s.Inserted != 1 {
			t.Fatalf("single report %d: stored %d: %v", i, s.Inserted, err)
		}
		for tbl, n := range extraRows(t, db) {
			if n != 0 {
				t.Errorf("after single report %d %s holds %d rows beyond one a key", i, tbl, n)
			}
		}
	}
	checkRollups(t, db, geo.DefaultResolutions)

	// A run over two years (a load of the past), as the command line runs it,
	// merges its yearly cell counts by strands (what tiles over whole years read) and
	// the tree of area counts, and leaves its daily rows for serve's merge of the days
	// due.
	if err := db.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM incidents WHERE hashtext(source_ref) % 3 = 0`); err != nil {
		t.Fatal(err)
	}
	if err := db.RebuildRollups(ctx, geo.DefaultResolutions); err != nil {
		t.Fatal(err)
	}
	if s, err = p.ingest(ctx, t, g.Reader(), 40); err != nil || s.Inserted < 1000 {
		t.Fatalf("the run over two years stored %d: %v", s.Inserted, err)
	}
	extra = extraRows(t, db)
	for _, tbl := range []string{"cell_year_strands", "area_prefix_counts"} {
		if extra[tbl] != 0 {
			t.Errorf("after a run over two years %s holds %d rows beyond one a key; want none", tbl, extra[tbl])
		}
	}
	if extra["cell_day_counts"] == 0 {
		t.Errorf("after a run over two years no daily row was left for serve's merge: %v", extra)
	}
	checkRollups(t, db, geo.DefaultResolutions)
}

// dayReader passes on the records of a reader from the day from on.
type dayReader struct {
	r    geo.Reader
	from time.Time
}

func (d *dayReader) Next() (*geo.RawIncident, error) {
	for {
		raw, err := d.r.Next()
		if err != nil {
			return raw, err
		}
		when := raw.Occurred
		if when == "" {
			when = raw.OccurredFrom
		}
		if len(when) < len(time.DateOnly) {
			continue // a month, or nothing: not a day of the run
		}
		if day, perr := time.Parse(time.DateOnly, when[:len(time.DateOnly)]); perr == nil && !day.Before(d.from) {
			return raw, nil
		}
	}
}
