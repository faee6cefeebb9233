package bench

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

// IngestOptions are the settings of Ingest.
type IngestOptions struct {
	Rows       int    // demo rows to ingest
	Runs       int    // times to run each measurement
	CPUProfile string // a file for a CPU profile of the whole pipeline's runs, or ""
}

// ingestTimes are the best of the runs of each measurement of the ingest.
type ingestTimes struct {
	parse, pipeline, indexed, unindexed time.Duration // parse is zero when not measured
	rollups                             map[string]int64
}

// Ingest times the ingest pipeline against a plain COPY of the same rows.
func Ingest(ctx context.Context, env *Env, o IngestOptions) error {
	rows, runs := o.Rows, o.Runs
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
	db, done, err := env.scratch(ctx, "tensionmap_bench", postgis.Options{MaxConns: 6})
	if err != nil {
		return err
	}
	defer done()
	if _, err := db.ImportAreas(ctx, g.GeoAreas()); err != nil {
		return err
	}
	t, err := ingestRuns(ctx, env, db, files.Incidents, rows, runs, true, o.CPUProfile)
	if err != nil {
		return err
	}

	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(env.Stdout, "ingest of %d demo rows (%s, %.1f MB gzipped), %d runs each, best run:\n\n", rows, filepath.Base(files.Incidents), float64(st.Size())/1e6, runs)
	fmt.Fprintln(w, "measurement\tseconds\trows/s\t")
	line := func(name string, best time.Duration) {
		fmt.Fprintf(w, "%s\t%.2f\t%.0f\t\n", name, best.Seconds(), float64(rows)/best.Seconds())
	}
	line("read, validate, bin, attribute (no database)", t.parse)
	line("whole pipeline: file to incidents and roll-ups", t.pipeline)
	line("plain COPY of the same rows into incidents, with its indexes", t.indexed)
	line("plain COPY of the same rows, unindexed table", t.unindexed)
	w.Flush()
	fmt.Fprintf(env.Stdout, "\nratio of throughputs, pipeline / plain COPY into incidents: %.2f (budget: at least 0.50)\n", t.indexed.Seconds()/t.pipeline.Seconds())
	fmt.Fprintf(env.Stdout, "ratio of throughputs, pipeline / plain COPY into an unindexed table: %.2f\n", t.unindexed.Seconds()/t.pipeline.Seconds())
	fmt.Fprintf(env.Stdout, "\nrows after a load of %d reports:\n", rows)
	for _, name := range postgis.RollupTables {
		fmt.Fprintf(env.Stdout, "  %-20s %10d\n", name, t.rollups[name])
		for r := 0; r <= 15; r++ {
			if n, ok := t.rollups[fmt.Sprintf("%s at resolution %d", name, r)]; ok {
				fmt.Fprintf(env.Stdout, "    at resolution %-2d %10d  (%.2f a report)\n", r, n, float64(n)/float64(t.rollups["incidents"]))
			}
		}
	}
	return nil
}

// ingestRuns loads the file of rows demo incidents runs times through the whole
// pipeline into db (emptied first), each time followed by the plain COPY baselines,
// and keeps the best time of each; with parse set it times the pipeline without the
// database too. With profile set, the whole pipeline's runs (not the baselines) are
// profiled into that file. The database holds the last run's load afterwards.
func ingestRuns(ctx context.Context, env *Env, db *postgis.DB, file string, rows, runs int, parse bool, profile string) (ingestTimes, error) {
	var t ingestTimes
	validator, err := env.validator(time.Time{})
	if err != nil {
		return t, err
	}
	ing, err := env.NewIngester(ctx, db)
	if err != nil {
		return t, err
	}
	open := func() (geo.Reader, func(), error) {
		f, err := os.Open(file)
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
	areas, err := ing.AreaIndex(ctx)
	if err != nil {
		return t, err
	}
	best := func(b *time.Duration, d time.Duration) {
		if *b == 0 || d < *b {
			*b = d
		}
	}
	for run := 0; run < runs; run++ {
		if parse {
			// The pipeline without the database: read, validate, bin, attribute.
			r, closeIn, err := open()
			if err != nil {
				return t, err
			}
			start := time.Now()
			if _, err := geo.Ingest(ctx, r, discard{}, geo.IngestOptions{Validator: validator, Binner: ing.Binner(), Areas: areas}); err != nil {
				closeIn()
				return t, err
			}
			best(&t.parse, time.Since(start))
			closeIn()
		}

		if err := db.Truncate(ctx); err != nil {
			return t, err
		}
		r, closeIn, err := open()
		if err != nil {
			return t, err
		}
		fmt.Fprintf(env.Stderr, "ingesting %d rows through the whole pipeline…\n", rows)
		stopProfile, err := startCPUProfile(profile)
		if err != nil {
			closeIn()
			return t, err
		}
		// The whole run as the command runs it: its batches, then the merge of the
		// roll-up rows it appended and its record.
		started := time.Now()
		sum, err := ing.Run(ctx, filepath.Base(file), r, validator)
		whole := time.Since(started)
		stopProfile()
		closeIn()
		if profile != "" {
			// pprof writes one profile a file: the first run's.
			profile = ""
		}
		if err != nil {
			return t, err
		}
		if sum.Inserted != rows {
			return t, fmt.Errorf("the pipeline stored %d of %d rows", sum.Inserted, rows)
		}
		best(&t.pipeline, whole)
		if t.rollups, err = db.RollupRows(ctx); err != nil {
			return t, err
		}

		fmt.Fprintf(env.Stderr, "copying the same rows with plain COPY…\n")
		n, plain, into, err := db.CopyBaseline(ctx)
		if err != nil {
			return t, err
		}
		if n != int64(rows) {
			return t, fmt.Errorf("the baseline copied %d of %d rows", n, rows)
		}
		best(&t.unindexed, plain)
		best(&t.indexed, into)
	}
	return t, nil
}

// discard is a BatchWriter that stores nothing, to time the pipeline without the database.
type discard struct{}

func (discard) WriteBatch(_ context.Context, b []*geo.Incident) (int, error) { return len(b), nil }
