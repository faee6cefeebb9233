package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/bench"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

// runBench measures the service against baselines run in the same process, and prints
// ratios: these machines are shared, so only a ratio within one run means anything.
// The measurements live in package bench; this parses their flags.
func runBench(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "ingest":
			return runBenchIngest(ctx, env, args[1:])
		case "tiles":
			return runBenchTiles(ctx, env, args[1:])
		case "engine":
			return runBenchEngine(ctx, env, args[1:])
		case "api":
			return runBenchAPI(ctx, env, args[1:])
		case "scale":
			return runBenchScale(ctx, env, args[1:])
		}
	}
	fmt.Fprintln(env.Stderr, "Usage: tensionmap bench ingest [--rows N] [--runs N] [--cpuprofile FILE]\n       tensionmap bench tiles [--rows N] [--clients N] [--duration D]\n       tensionmap bench engine [--rows N] [--weeks N]\n       tensionmap bench api [--rows N] [--runs N]\n       tensionmap bench scale [--rows N] [--years N] [--doc FILE]")
	return usageError("want `bench ingest`, `bench tiles`, `bench engine`, `bench api` or `bench scale`")
}

// benchEnv is the benchmarks' view of the configuration, with the real ingest.
func benchEnv(env *Env) (*bench.Env, error) {
	cfg := env.Config
	if err := cfg.needDatabase(); err != nil {
		return nil, err
	}
	return &bench.Env{DatabaseURL: cfg.DatabaseURL, Strands: cfg.Strands, Sources: cfg.Sources, Key: cfg.key, Location: cfg.location,
		Engine: cfg.engineConfig(), Stdout: env.Stdout, Stderr: env.Stderr,
		NewIngester: func(ctx context.Context, db *postgis.DB) (bench.Ingester, error) {
			ing, err := newIngester(ctx, db, &cfg)
			if err != nil {
				return nil, err
			}
			return benchIngester{ing}, nil
		}}, nil
}

// benchIngester is the ingester as package bench drives it.
type benchIngester struct{ ing *ingester }

func (b benchIngester) Run(ctx context.Context, label string, r geo.Reader, v *geo.Validator) (geo.Summary, error) {
	return b.ing.run(ctx, "bench", "", label, r, v, 0, nil, nil)
}
func (b benchIngester) Binner() *geo.Binner { return b.ing.binner }
func (b benchIngester) AreaIndex(ctx context.Context) (*geo.AreaIndex, error) {
	return b.ing.areaIndex(ctx)
}

func runBenchIngest(ctx context.Context, env *Env, args []string) error {
	var o bench.IngestOptions
	fs := newFlagSet(env, "bench ingest", "bench ingest [--rows N] [--runs N] [--cpuprofile FILE]")
	fs.IntVar(&o.Rows, "rows", 1_000_000, "demo rows to ingest")
	fs.IntVar(&o.Runs, "runs", 2, "times to run each measurement")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the first whole-pipeline run (not the baselines) to this file")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	benv, err := benchEnv(env)
	if err != nil {
		return err
	}
	return bench.Ingest(ctx, benv, o)
}

func runBenchTiles(ctx context.Context, env *Env, args []string) error {
	var o bench.TilesOptions
	fs := newFlagSet(env, "bench tiles", "bench tiles [--rows N] [--clients N] [--duration D] [--runs N]")
	fs.IntVar(&o.Rows, "rows", 1_000_000, "demo incidents to load")
	fs.IntVar(&o.Clients, "clients", 16, "concurrent clients of the throughput and load runs")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "length of the load run (the cached-tile comparison takes as long)")
	fs.IntVar(&o.Runs, "runs", 3, "passes over the tile set in the uncached comparison; the best counts")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the measurements (not the loading) to this file")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	benv, err := benchEnv(env)
	if err != nil {
		return err
	}
	return bench.Tiles(ctx, benv, o)
}

func runBenchEngine(ctx context.Context, env *Env, args []string) error {
	var o bench.EngineOptions
	fs := newFlagSet(env, "bench engine", "bench engine [--rows N] [--years N] [--weeks N] [--baseline-days N] [--cpuprofile FILE]")
	fs.IntVar(&o.Rows, "rows", 200_000, "demo incidents to load")
	fs.IntVar(&o.Years, "years", 5, "years of data")
	fs.IntVar(&o.Weeks, "weeks", 104, "weeks of the backfill")
	fs.IntVar(&o.BaselineDays, "baseline-days", 4, "days of the backfill replayed the old way for the baseline")
	fs.StringVar(&o.Level, "level", "ward", "the area level imported (ward: the demo's 16 to 18 wards; all: lsoas too)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the engine's runs (not the loading) to this file")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	benv, err := benchEnv(env)
	if err != nil {
		return err
	}
	o.Replicates = env.Config.ScanReplicates
	return bench.Engine(ctx, benv, o)
}

func runBenchAPI(ctx context.Context, env *Env, args []string) error {
	var o bench.APIOptions
	fs := newFlagSet(env, "bench api", "bench api [--rows N] [--runs N] [--stat median|min]")
	fs.IntVar(&o.Rows, "rows", 1_000_000, "demo incidents to load")
	fs.IntVar(&o.Runs, "runs", 7, "calls per period and path")
	fs.StringVar(&o.Stat, "stat", "median", "the time a path is given of its calls: median, or min (the steadier on a machine other work keeps busy)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if o.Stat != "median" && o.Stat != "min" {
		return usageError("--stat: %q is not median or min", o.Stat)
	}
	benv, err := benchEnv(env)
	if err != nil {
		return err
	}
	return bench.API(ctx, benv, o)
}

func runBenchScale(ctx context.Context, env *Env, args []string) error {
	var o bench.ScaleOptions
	fs := newFlagSet(env, "bench scale", "bench scale [--rows N] [--years N] [--clients N] [--doc FILE] [--listen ADDR]")
	fs.IntVar(&o.Rows, "rows", 10_000_000, "demo reports to generate and load")
	fs.IntVar(&o.Years, "years", 10, "years the reports span, ending yesterday")
	fs.IntVar(&o.Clients, "clients", 16, "clients of the many-client tile throughput and the load run")
	fs.DurationVar(&o.Slice, "slice", 5*time.Second, "each side's turn in a throughput comparison (two turns each, alternating)")
	fs.DurationVar(&o.Load, "load", 20*time.Second, "length of the load run")
	fs.IntVar(&o.Runs, "runs", 1, "passes over the tile set in the one-at-a-time uncached comparison; the best counts")
	fs.IntVar(&o.APIRuns, "api-runs", 5, "calls of each /api/v1/areas path")
	fs.StringVar(&o.Listen, "listen", "", "loopback address of the serve process the load run and API calls go to, such as :8094 (default: a free port)")
	fs.StringVar(&o.Doc, "doc", "", "write the table into the generated section of this Markdown file (docs/performance.md)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if o.Rows < 1 || o.Years < 1 || o.Clients < 1 || o.Runs < 1 || o.APIRuns < 1 {
		return usageError("--rows, --years, --clients, --runs and --api-runs: at least 1")
	}
	benv, err := benchEnv(env)
	if err != nil {
		return err
	}
	o.Command = strings.TrimSpace("tensionmap bench scale " + strings.Join(args, " "))
	return bench.Scale(ctx, benv, o)
}
