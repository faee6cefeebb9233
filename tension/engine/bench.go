package engine

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/tension"
)

// BenchOptions say what the engine's benchmark measures.
type BenchOptions struct {
	AsOf time.Time // the single run's day, and the backfill's last
	// BackfillWeeks is the length of the weekly backfill measured.
	BackfillWeeks int
	// BaselineDays is how many of the backfill's days the baseline (every day read
	// from the store, every detector, as a live run does) replays; its time is
	// scaled to the whole backfill, since replaying it all the old way takes long.
	BaselineDays int
}

// Bench times one engine run (total and per detector) and a weekly backfill over
// db, each beside the way it was: a run without per-detector isolation differs in
// nothing measurable, so the single run is its own baseline; the backfill's baseline
// replays BaselineDays days the old way (every detector, every count read from the
// store for each day) and scales to the whole. It writes a table to w.
func Bench(ctx context.Context, db Store, cfg Config, bo BenchOptions, w io.Writer, progress io.Writer) error {
	res, ok, err := Run(ctx, db, cfg, bo.AsOf, "bench")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("engine: bench: another run holds the engine")
	}
	fmt.Fprintf(progress, "one run: %s %v\n", res.Took.Round(time.Millisecond), res.Report.Seconds)
	from := bo.AsOf.AddDate(0, 0, -7*(bo.BackfillWeeks-1))
	days := len(BackfillOptions{From: from, To: bo.AsOf, Every: 7}.Days())
	// The old way: a live run on each day.
	baseFrom := bo.AsOf.AddDate(0, 0, -7*(bo.BaselineDays-1))
	start := time.Now()
	base := map[string]float64{}
	for _, d := range (BackfillOptions{From: baseFrom, To: bo.AsOf, Every: 7}).Days() {
		r, _, err := Run(ctx, db, cfg, d, "bench")
		if err != nil {
			return err
		}
		for k, v := range r.Report.Seconds {
			base[k] += v
		}
	}
	baseTook := time.Since(start)
	baseScale := float64(days) / float64(bo.BaselineDays)
	fmt.Fprintf(progress, "baseline: %d days in %s\n", bo.BaselineDays, baseTook.Round(time.Millisecond))
	bf, err := Backfill(ctx, db, cfg, BackfillOptions{From: from, To: bo.AsOf, Every: 7})
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "backfill %d: %d days in %s\n", bf.ID, bf.Days, bf.Took.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "engine\tseconds\tbefore (s)\tnew/old\t\n")
	fmt.Fprintf(tw, "one run, total\t%.2f\t\t\t\n", res.Took.Seconds())
	for _, k := range tension.Detectors() {
		if v, ok := res.Report.Seconds[k]; ok {
			fmt.Fprintf(tw, "  %s\t%.2f\t\t\t\n", k, v)
		}
	}
	old := baseTook.Seconds() * baseScale
	fmt.Fprintf(tw, "weekly backfill, %d weeks\t%.1f\t%.1f\t%.3f\t\n", days, bf.Took.Seconds(), old, bf.Took.Seconds()/old)
	for _, k := range tension.Detectors() {
		if v, ok := base[k]; ok {
			fmt.Fprintf(tw, "  %s\t%.1f\t%.1f\t%.3f\t\n", k, bf.Seconds[k], v*baseScale, bf.Seconds[k]/(v*baseScale))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(before: a live run on each day, %d of the %d days replayed and scaled; the backfill reads the counts once and skips hot spots and near repeats)\n", bo.BaselineDays, days)
	return nil
}
