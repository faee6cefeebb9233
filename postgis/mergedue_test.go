package postgis_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// A run over past years leaves its daily roll-up rows unmerged and records its days;
// MergeDue (which serve runs every TENSIONMAP_ROLLUP_MERGE_EVERY) merges them a
// month at a time, one server at a time, and changes no count.
func TestMergeDue(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 6000)
	importDemoAreas(t, db, g)

	p := newPipeline(t, db, geo.Defaults{})
	p.compact = true // as the command line and the intake run it
	if _, err := p.ingest(ctx, t, &halfReader{r: g.Reader(), odd: 0}, 150); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM rollup_merges_due"); n != 1 {
		t.Fatalf("%d spans due a merge after a run over two years, want 1", n)
	}
	extra := extraRows(t, db)
	if extra["cell_day_counts"]+extra["set_day_counts"]+extra["day_counts"] == 0 {
		t.Fatalf("rows beyond one a key before merging: %v; the test needs some", extra)
	}
	if extra["area_prefix_counts"] != 0 {
		t.Errorf("the run left %d rows of the tree of area counts unmerged", extra["area_prefix_counts"])
	}
	before := readAll(t, db)

	// Another server merging: this one leaves the days for it.
	const mergeLock = 7455_2023_0004 // postgis's
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", mergeLock); err != nil {
		t.Fatal(err)
	}
	if days, err := db.MergeDue(ctx); err != nil || days != 0 {
		t.Errorf("MergeDue while another holds the merge: %d days, %v; want 0, nil", days, err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", mergeLock); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM rollup_merges_due"); n != 1 {
		t.Fatalf("%d spans due after a merge that did not run, want 1", n)
	}

	days, err := db.MergeDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, last := count(t, db, "SELECT min(day) - date '2000-01-01' FROM day_counts"), count(t, db, "SELECT max(day) - date '2000-01-01' FROM day_counts")
	if span := int(last - first + 1); days < span {
		t.Errorf("merged %d days, want at least the %d the reports span", days, span)
	}
	for tbl, n := range extraRows(t, db) {
		if n != 0 {
			t.Errorf("after the merge of the days due %s holds %d rows beyond one a key", tbl, n)
		}
	}
	if after := readAll(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("reads differ after the merge of the days due:\nbefore %+v\nafter  %+v", before, after)
	}
	checkRollups(t, db, geo.DefaultResolutions)
	if n := count(t, db, "SELECT count(*) FROM rollup_merges_due"); n != 0 {
		t.Errorf("%d spans still due after the merge", n)
	}
	if days, err := db.MergeDue(ctx); err != nil || days != 0 {
		t.Errorf("MergeDue with nothing due: %d days, %v", days, err)
	}

	// The loop serve runs merges what the next run leaves, while it runs.
	if _, err := p.ingest(ctx, t, &halfReader{r: g.Reader(), odd: 1}, 150); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM rollup_merges_due"); n != 1 {
		t.Fatalf("%d spans due after the second run, want 1", n)
	}
	loop, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.MergeDueEvery(loop, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for count(t, db, "SELECT count(*) FROM rollup_merges_due") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the days due were not merged within two minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	<-done
	for tbl, n := range extraRows(t, db) {
		if n != 0 {
			t.Errorf("after the loop's merge %s holds %d rows beyond one a key", tbl, n)
		}
	}
	checkRollups(t, db, geo.DefaultResolutions)

	// A merge of everything forgets the days due before it began.
	if _, err := db.Pool.Exec(ctx, "INSERT INTO rollup_merges_due (first_day, last_day) VALUES ('2020-01-01', '2021-12-31')"); err != nil {
		t.Fatal(err)
	}
	if err := db.CompactRollups(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM rollup_merges_due"); n != 0 {
		t.Errorf("%d spans still due after tensionmap rollups merge", n)
	}
}
