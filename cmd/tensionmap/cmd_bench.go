package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
)

// runBench measures the service against baselines run in the same process, and prints
// ratios: these machines are shared, so only a ratio within one run means anything.
func runBench(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "ingest" {
		return runBenchIngest(ctx, env, args)
	}
	if len(args) > 0 && args[0] == "tiles" {
		return runBenchTiles(ctx, env, args[1:])
	}
	if len(args) > 0 && args[0] == "engine" {
		return runBenchEngine(ctx, env, args[1:])
	}
	if len(args) > 0 && args[0] == "api" {
		return runBenchAPI(ctx, env, args[1:])
	}
	fmt.Fprintln(env.Stderr, "Usage: tensionmap bench ingest [--rows N] [--runs N]\n       tensionmap bench tiles [--rows N] [--clients N] [--duration D]\n       tensionmap bench engine [--rows N] [--weeks N]\n       tensionmap bench api [--rows N] [--runs N]")
	return usageError("want `bench ingest`, `bench tiles`, `bench engine` or `bench api`")
}

// runBenchIngest times the ingest pipeline against a plain COPY of the same rows.
func runBenchIngest(ctx context.Context, env *Env, args []string) error {
	var rows, runs int
	fs := newFlagSet(env, "bench ingest", "bench ingest [--rows N] [--runs N]")
	fs.IntVar(&rows, "rows", 1_000_000, "demo rows to ingest")
	fs.IntVar(&runs, "runs", 2, "times to run each measurement")
	if err := parse(env, fs, args[1:]); err != nil {
		return err
	}
	cfg := &env.Config
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	debug.SetGCPercent(400)
	tmp, err := os.MkdirTemp("", "tensionmap-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	g, err := synth.New(synth.Options{Seed: 1, Rows: rows, Years: 5, End: time.Now().UTC().AddDate(0, 0, -1)})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "generating %d demo rows…\n", rows)
	files, err := synth.WriteDir(tmp, g)
	if err != nil {
		return err
	}
	st, err := os.Stat(files.Incidents)
	if err != nil {
		return err
	}
	url, drop, err := postgis.ScratchDatabase(ctx, cfg.DatabaseURL, "tensionmap_bench")
	if err != nil {
		return err
	}
	defer drop()
	db, err := postgis.Open(ctx, url, postgis.Options{MaxConns: 6})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if _, err := db.ImportAreas(ctx, g.GeoAreas()); err != nil {
		return err
	}
	key := cfg.key
	if len(key) == 0 {
		key = []byte("benchmark key, not for real data, 32+ bytes")
	}
	validator, err := geo.NewValidator(geo.ValidatorOptions{Strands: cfg.Strands, Sources: cfg.Sources, Key: key, Location: cfg.location})
	if err != nil {
		return err
	}
	ing, err := newIngester(ctx, db, cfg)
	if err != nil {
		return err
	}

	open := func() (geo.Reader, func(), error) {
		f, err := os.Open(files.Incidents)
		if err != nil {
			return nil, nil, err
		}
		r, err := geo.NewReader(f, geo.ReaderOptions{Format: geo.FormatCSV})
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return r, func() { f.Close() }, nil
	}
	areas, err := ing.areaIndex(ctx)
	if err != nil {
		return err
	}
	var parse, pipeline, baseline, indexed []time.Duration
	var rollups map[string]int64
	for run := 0; run < runs; run++ {
		// The pipeline without the database: read, validate, bin, attribute.
		r, closeIn, err := open()
		if err != nil {
			return err
		}
		start := time.Now()
		if _, err := geo.Ingest(ctx, r, discard{}, geo.IngestOptions{Validator: validator, Binner: ing.binner, Areas: areas}); err != nil {
			closeIn()
			return err
		}
		parse = append(parse, time.Since(start))
		closeIn()

		if err := db.Truncate(ctx); err != nil {
			return err
		}
		r, closeIn, err = open()
		if err != nil {
			return err
		}
		sum, err := ing.run(ctx, "bench", "", filepath.Base(files.Incidents), r, validator, 0, nil, nil)
		closeIn()
		if err != nil {
			return err
		}
		if sum.Inserted != rows {
			return fmt.Errorf("the pipeline stored %d of %d rows", sum.Inserted, rows)
		}
		pipeline = append(pipeline, sum.Elapsed)
		if rollups, err = db.RollupRows(ctx); err != nil {
			return err
		}

		n, plain, into, err := db.CopyBaseline(ctx)
		if err != nil {
			return err
		}
		if n != int64(rows) {
			return fmt.Errorf("the baseline copied %d of %d rows", n, rows)
		}
		baseline = append(baseline, plain)
		indexed = append(indexed, into)
	}

	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(env.Stdout, "ingest of %d demo rows (%s, %.1f MB gzipped), %d runs each, best run:\n\n", rows, filepath.Base(files.Incidents), float64(st.Size())/1e6, runs)
	fmt.Fprintln(w, "measurement\tseconds\trows/s\t")
	line := func(name string, ds []time.Duration) time.Duration {
		best := ds[0]
		for _, d := range ds {
			best = min(best, d)
		}
		fmt.Fprintf(w, "%s\t%.2f\t%.0f\t\n", name, best.Seconds(), float64(rows)/best.Seconds())
		return best
	}
	line("read, validate, bin, attribute (no database)", parse)
	p := line("whole pipeline: file to incidents and roll-ups", pipeline)
	ix := line("plain COPY of the same rows into incidents, with its indexes", indexed)
	b := line("plain COPY of the same rows, unindexed table", baseline)
	w.Flush()
	fmt.Fprintf(env.Stdout, "\nratio of throughputs, pipeline / plain COPY into incidents: %.2f (budget: at least 0.50)\n", ix.Seconds()/p.Seconds())
	fmt.Fprintf(env.Stdout, "ratio of throughputs, pipeline / plain COPY into an unindexed table: %.2f\n", b.Seconds()/p.Seconds())
	fmt.Fprintf(env.Stdout, "\nrows after a load of %d reports:\n", rows)
	for _, t := range postgis.RollupTables {
		fmt.Fprintf(env.Stdout, "  %-20s %10d\n", t, rollups[t])
	}
	return nil
}

// discard is a BatchWriter that stores nothing, to time the pipeline without the database.
type discard struct{}

func (discard) WriteBatch(_ context.Context, b []*geo.Incident) (int, error) { return len(b), nil }
