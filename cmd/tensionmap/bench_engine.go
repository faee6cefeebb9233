package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
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
	var level, cpuProfile string
	fs := newFlagSet(env, "bench engine", "bench engine [--rows N] [--years N] [--weeks N] [--baseline-days N] [--cpuprofile FILE]")
	fs.IntVar(&rows, "rows", 200_000, "demo incidents to load")
	fs.IntVar(&years, "years", 5, "years of data")
	fs.IntVar(&weeks, "weeks", 104, "weeks of the backfill")
	fs.IntVar(&baseline, "baseline-days", 4, "days of the backfill replayed the old way for the baseline")
	fs.StringVar(&level, "level", "ward", "the area level imported (ward: the demo's 16 to 18 wards; all: lsoas too)")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the engine's runs (not the loading) to this file")
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
	sum, err := loadBenchDemo(ctx, env, db, &cfg, g, areas, false, end, "bench engine", fmt.Sprintf("%d demo incidents over %d years in %d areas", rows, years, len(areas)))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "loaded in %s\n", sum.Elapsed.Round(time.Millisecond))
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(env.Stdout, "engine over %d incidents, %d years, %d areas (scan replicates %d):\n", sum.Inserted, years, len(areas), cfg.ScanReplicates)
	return engine.Bench(ctx, db, cfg.engineConfig(), engine.BenchOptions{AsOf: end, BackfillWeeks: weeks, BaselineDays: baseline}, env.Stdout, env.Stderr)
}
