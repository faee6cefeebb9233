package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/tension"
)

// runRuns lists the engine's runs, or clears a backfill's alerts.
func runRuns(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "clear-backfill" {
		return runClearBackfill(ctx, env, args[1:])
	}
	var f tension.RunFilter
	var asJSON bool
	fs := newFlagSet(env, "runs", "runs [--limit N] [--backfill ID] [--json] | runs clear-backfill ID")
	fs.IntVar(&f.Limit, "limit", 20, "at most this many runs, the newest (1 to 1000)")
	fs.Func("backfill", "list this backfill and the days it replayed", func(v string) error {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return fmt.Errorf("want a backfill's id")
		}
		f.Backfill = id
		return nil
	})
	fs.BoolVar(&asJSON, "json", false, "print the runs as a JSON array")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return usageError("--limit %d: want 1 to 1000", f.Limit)
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.EngineRuns(ctx, f)
	if err != nil {
		return err
	}
	if asJSON {
		if runs == nil {
			runs = []tension.RunRecord{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(runs)
	}
	printRuns(env, runs)
	return nil
}

// printRuns writes runs as a table: what each found, how long it took and which
// detectors failed and why.
func printRuns(env *Env, runs []tension.RunRecord) {
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tAS OF\tTRIGGER\tSTATUS\tDURATION\tFINDINGS\tALERTS\tFAILED")
	for _, r := range runs {
		asOf := r.AsOf.Format(time.DateOnly)
		if r.Trigger == "backfill" {
			if from, ok := r.Params["from"].(string); ok {
				asOf = from + ".." + asOf
			}
		}
		alerts := fmt.Sprintf("%d new, %d updated", r.Counts["alerts_opened"], r.Counts["alerts_updated"])
		failed := []string{}
		for _, f := range r.Failures {
			failed = append(failed, f.Detector+": "+oneLine(f.Error, 80))
		}
		if r.Error != "" {
			failed = append(failed, oneLine(r.Error, 80))
		}
		trigger := r.Trigger
		if r.BackfillID != 0 {
			trigger = fmt.Sprintf("backfill %d", r.BackfillID)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, asOf, trigger, r.Status, r.Duration.Round(time.Millisecond),
			r.Counts["findings"], alerts, strings.Join(failed, "; "))
	}
	w.Flush()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

func runClearBackfill(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "runs clear-backfill", "runs clear-backfill ID")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("want one backfill's id")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id < 1 {
		return usageError("%q is not a backfill's id", fs.Arg(0))
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.ClearBackfill(ctx, id)
	if err != nil {
		return err
	}
	if err := recordAudit(ctx, db, env, "engine.clear_backfill", map[string]any{"backfill": id, "alerts": n}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backfill %d cleared: %d alerts and their history deleted\n", id, n)
	return nil
}
