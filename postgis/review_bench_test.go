package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/postgis/pgtest"
)

// BenchmarkReview times a strategic review of a quarter and of a year on the demo
// town at 1 million reports over five years (100,000 with -short), with an outcome
// for seven police crimes in ten and a second, later one for two in ten.
func BenchmarkReview(b *testing.B) {
	ctx := context.Background()
	rows := 1_000_000
	if testing.Short() {
		rows = 100_000
	}
	url, drop, err := postgis.ScratchDatabase(ctx, pgtest.ServerURL(b), "tensionmap_bench_review")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(drop)
	db, err := postgis.Open(ctx, url, postgis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	g, err := synth.New(synth.Options{Seed: 7, Rows: rows, Years: 5, End: testEnd})
	if err != nil {
		b.Fatal(err)
	}
	importDemoAreas(b, db, g)
	if _, err := newPipeline(b, db, geo.Defaults{}).ingest(ctx, b, g.Reader(), 10_000); err != nil {
		b.Fatal(err)
	}
	_, err = db.Pool.Exec(ctx, `
		INSERT INTO outcomes (crime_ref, month, outcome, positive)
		SELECT source_ref, date_trunc('month', occurred_from + 20)::date, 'Investigation complete; no suspect identified', false
		FROM incidents WHERE source_id = (SELECT id FROM sources WHERE name = 'police') AND kind = 0 AND abs(hashtext(source_ref)) % 10 < 7;
		INSERT INTO outcomes (crime_ref, month, outcome, positive)
		SELECT source_ref, date_trunc('month', occurred_from + 80)::date, 'Offender charged', true
		FROM incidents WHERE source_id = (SELECT id FROM sources WHERE name = 'police') AND kind = 0 AND abs(hashtext(source_ref)) % 10 < 2`)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	end := time.Date(testEnd.Year(), testEnd.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1) // the last whole month
	for _, p := range []struct {
		name   string
		months int
	}{{"quarter", 3}, {"year", 12}} {
		from := end.AddDate(0, 0, 1).AddDate(0, -p.months, 0)
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				r, err := db.Review(ctx, geo.ReviewQuery{From: from, To: end, Today: testEnd})
				if err != nil {
					b.Fatal(err)
				}
				if r.Period.Reports == 0 || r.Outcomes.WithOutcome == 0 || r.Repeats.Victims.RepeatPeople == 0 {
					b.Fatalf("a review without reports, outcomes or repeats: %+v", r.Period)
				}
			}
		})
	}
}
