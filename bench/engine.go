package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// EngineOptions are the settings of Engine.
type EngineOptions struct {
	Rows         int    // demo incidents to load
	Years        int    // years of data
	Weeks        int    // weeks of the backfill
	BaselineDays int    // days of the backfill replayed the old way for the baseline
	Level        string // the area level imported: "ward", or "all" for lsoas too
	CPUProfile   string // a file for a CPU profile of the engine's runs, or ""
	Replicates   int    // Monte Carlo replicates of the scan, as configured (printed)
}

// Engine loads a demo town through the real ingest and times the engine on it: one
// run and a weekly backfill, beside the way they ran before.
func Engine(ctx context.Context, env *Env, o EngineOptions) error {
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	g, err := synth.New(synth.Options{Seed: 1, Rows: o.Rows, Years: o.Years, End: end})
	if err != nil {
		return err
	}
	db, done, err := env.scratch(ctx, "tensionmap_bench_engine", postgis.Options{MaxConns: 8, StatementTimeout: 5 * time.Minute})
	if err != nil {
		return err
	}
	defer done()
	var areas []geo.Area
	for _, a := range g.GeoAreas() {
		if o.Level == "all" || a.Level == o.Level {
			areas = append(areas, a)
		}
	}
	sum, err := loadDemo(ctx, env, db, g, areas, false, end, "bench engine", fmt.Sprintf("%d demo incidents over %d years in %d areas", o.Rows, o.Years, len(areas)))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "loaded in %s\n", sum.Elapsed.Round(time.Millisecond))
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	fmt.Fprintf(env.Stdout, "engine over %d incidents, %d years, %d areas (scan replicates %d):\n", sum.Inserted, o.Years, len(areas), o.Replicates)
	return engine.Bench(ctx, db, env.Engine, engine.BenchOptions{AsOf: end, BackfillWeeks: o.Weeks, BaselineDays: o.BaselineDays}, env.Stdout, env.Stderr)
}
