package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// runBenchEngine loads a demo town through the real ingest and times the engine on
// it: one run and a weekly backfill, beside the way they ran before.
func runBenchEngine(ctx context.Context, env *Env, args []string) error {
	var rows, years, weeks, baseline int
	var level string
	fs := newFlagSet(env, "bench engine", "bench engine [--rows N] [--years N] [--weeks N] [--baseline-days N]")
	fs.IntVar(&rows, "rows", 200_000, "demo incidents to load")
	fs.IntVar(&years, "years", 5, "years of data")
	fs.IntVar(&weeks, "weeks", 104, "weeks of the backfill")
	fs.IntVar(&baseline, "baseline-days", 4, "days of the backfill replayed the old way for the baseline")
	fs.StringVar(&level, "level", "ward", "the area level imported (ward: the demo's 16 to 18 wards; all: lsoas too)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	cfg := env.Config
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	g, err := synth.New(synth.Options{Seed: 1, Rows: rows, Years: years, End: end})
	if err != nil {
		return err
	}
	url, drop, err := postgis.ScratchDatabase(ctx, cfg.DatabaseURL, "tensionmap_bench_engine")
	if err != nil {
		return err
	}
	defer drop()
	db, err := postgis.Open(ctx, url, postgis.Options{MaxConns: 8, StatementTimeout: 5 * time.Minute})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	var areas []geo.Area
	for _, a := range g.GeoAreas() {
		if level == "all" || a.Level == level {
			areas = append(areas, a)
		}
	}
	if _, err := db.ImportAreas(ctx, areas); err != nil {
		return err
	}
	key := cfg.key
	if len(key) == 0 {
		key = []byte("benchmark key, not for real data, 32+ bytes")
	}
	v, err := geo.NewValidator(geo.ValidatorOptions{Strands: cfg.Strands, Sources: cfg.Sources, Key: key, Location: cfg.location,
		Now: func() time.Time { return end.Add(36 * time.Hour) }})
	if err != nil {
		return err
	}
	ing, err := newIngester(ctx, db, &cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "loading %d demo incidents over %d years in %d areas…\n", rows, years, len(areas))
	sum, err := ing.run(ctx, "bench", "", "bench engine", g.Reader(), v, 0, nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "loaded in %s\n", sum.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(env.Stdout, "engine over %d incidents, %d years, %d areas (scan replicates %d):\n", sum.Inserted, years, len(areas), cfg.ScanReplicates)
	return engine.Bench(ctx, db, cfg.engineConfig(), engine.BenchOptions{AsOf: end, BackfillWeeks: weeks, BaselineDays: baseline}, env.Stdout, env.Stderr)
}
