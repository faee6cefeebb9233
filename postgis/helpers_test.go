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

// testEnd is the last day of the synthetic data the tests load.
var testEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// openDB returns a migrated database of the test's own.
func openDB(tb testing.TB) *postgis.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := postgis.Open(ctx, pgtest.NewDatabase(tb), postgis.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// pipeline is the ingest as the command line wires it.
type pipeline struct {
	db        *postgis.DB
	vocab     *postgis.Vocab
	binner    *geo.Binner
	validator *geo.Validator
	compact   bool // merge the run's roll-up rows as it ends, as the command line does
	stores    int  // batches stored at once (IncidentWriter.SetStores), 0 for no limit
	writers   int  // batches prepared and stored at once, 2 when 0
}

func newPipeline(tb testing.TB, db *postgis.DB, defaults geo.Defaults) *pipeline {
	tb.Helper()
	ctx := context.Background()
	vocab, err := db.EnsureVocab(ctx, geo.DefaultStrands, geo.DefaultSources)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.EnsureResolutions(ctx, geo.DefaultResolutions); err != nil {
		tb.Fatal(err)
	}
	binner, err := geo.NewBinner(nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := geo.NewValidator(geo.ValidatorOptions{Key: []byte("test key of at least thirty-two bytes"), Defaults: defaults,
		Now: func() time.Time { return testEnd.Add(24 * time.Hour) }})
	if err != nil {
		tb.Fatal(err)
	}
	return &pipeline{db: db, vocab: vocab, binner: binner, validator: v}
}

// ingest loads r through the whole pipeline, attributing to the stored areas.
func (p *pipeline) ingest(ctx context.Context, tb testing.TB, r geo.Reader, batchSize int) (geo.Summary, error) {
	tb.Helper()
	areas, err := p.db.LoadAreas(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := p.db.NewIncidentWriter(ctx, p.vocab, p.binner)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	run, err := p.db.StartRun(ctx, "test", tb.Name(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	w.SetRun(run)
	w.SetStores(p.stores)
	writers := p.writers
	if writers == 0 {
		writers = 2
	}
	sum, err := geo.Ingest(ctx, r, w, geo.IngestOptions{Validator: p.validator, Binner: p.binner,
		Areas: geo.NewAreaIndex(areas), BatchSize: batchSize, Writers: writers})
	if p.compact && err == nil {
		err = w.Compact(ctx)
	}
	if ferr := p.db.FinishRun(context.Background(), run, sum, err); ferr != nil {
		tb.Fatal(ferr)
	}
	return sum, err
}

// demo returns a small synthetic town.
func demo(tb testing.TB, rows int) *synth.Generator {
	tb.Helper()
	g, err := synth.New(synth.Options{Seed: 7, Rows: rows, Years: 2, End: testEnd})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// importDemoAreas stores the generator's areas and populations.
func importDemoAreas(tb testing.TB, db *postgis.DB, g *synth.Generator) []geo.Area {
	tb.Helper()
	ctx := context.Background()
	areas := g.GeoAreas()
	if _, err := db.ImportAreas(ctx, areas); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.SetPopulation(ctx, g.Populations()); err != nil {
		tb.Fatal(err)
	}
	return areas
}

func count(tb testing.TB, db *postgis.DB, sql string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// ingestSince ingests 2,000 demo reports in batches of batch into a new database
// with the demo's areas, and returns it, the demo and the data version before.
func ingestSince(t *testing.T, batch int) (*postgis.DB, *synth.Generator, int64) {
	t.Helper()
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 2000)
	importDemoAreas(t, db, g)
	v0, err := db.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newPipeline(t, db, geo.Defaults{}).ingest(ctx, t, g.Reader(), batch); err != nil {
		t.Fatal(err)
	}
	return db, g, v0
}
