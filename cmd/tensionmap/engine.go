package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// engineOptions are the detectors' settings for this configuration.
func (c *Config) engineOptions() tension.EngineOptions {
	o := tension.DefaultEngineOptions()
	o.Strands = c.Strands
	o.Scan.Replicates = c.ScanReplicates
	o.NearRepeat.Replicates = c.NearRepeatReplicates
	return o
}

// engineConfig is the engine's configuration for this one.
func (c *Config) engineConfig() engine.Config {
	return engine.Config{Options: c.engineOptions(), Rules: c.rules, Scale: c.TensionScale, DraftLevel: c.DraftLevel,
		AlertGap: c.AlertGap, Params: map[string]any{"rules": c.TensionRules}}
}

// today is the current day in the service's zone, as a date.
func (c *Config) today() time.Time { return engine.Today(c.location) }

// newScheduler wires the engine's scheduler for serve.
func newScheduler(db *postgis.DB, c *Config, log *slog.Logger) *engine.Scheduler {
	return &engine.Scheduler{Store: db, Config: c.engineConfig(), Log: log, At: c.EngineAt, AfterIngest: c.EngineAfterIngest,
		Location: c.location, Debounce: 5 * time.Minute}
}

func runScan(ctx context.Context, env *Env, args []string) error {
	var asOf, from, to, every, progressMode string
	fs := newFlagSet(env, "scan", "scan [--as-of YYYY-MM-DD] | scan --from YYYY-MM-DD --to YYYY-MM-DD [--every week|day]")
	fs.StringVar(&asOf, "as-of", "", "the analysis day (default: today)")
	fs.StringVar(&from, "from", "", "backfill: the first analysis day to replay")
	fs.StringVar(&to, "to", "", "backfill: the last analysis day to replay (default: today)")
	fs.StringVar(&every, "every", "week", "backfill: replay every week or every day from --from")
	fs.StringVar(&progressMode, "progress", "auto", "backfill progress: bar, log, none or auto (a bar on a terminal)")
	fs.IntVar(&env.Config.ScanReplicates, "replicates", env.Config.ScanReplicates, "Monte Carlo replicates of the space-time scan (env TENSIONMAP_SCAN_REPLICATES)")
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, `Usage: tensionmap scan [--as-of YYYY-MM-DD]
       tensionmap scan --from YYYY-MM-DD [--to YYYY-MM-DD] [--every week|day]

The first form runs every detector once, as of a day, and stores its alerts.

The second is a backfill: it replays the engine on each analysis day from --from to
--to, as it would have run then, and stores the alerts it would have raised, marked
as one backfill (tensionmap runs lists it; tensionmap runs clear-backfill ID deletes
its alerts). A backfill's alerts merge among themselves across its days, never with
live alerts; it drafts no assessment. Hot spots and near repeats describe the present
and raise no alerts: a backfill skips them and leaves the current maps alone.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := parse(env, fs, args); err != nil {
		return err
	}
	cfg := &env.Config
	day := cfg.today()
	parseDay := func(name, v string) (time.Time, error) {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return t, usageError("--%s %q: want a day such as 2024-03-31", name, v)
		}
		return t, nil
	}
	if asOf != "" {
		t, err := parseDay("as-of", asOf)
		if err != nil {
			return err
		}
		day = t
	}
	var bo engine.BackfillOptions
	if from != "" {
		if asOf != "" {
			return usageError("--as-of and --from: choose one day or a backfill")
		}
		var err error
		if bo.From, err = parseDay("from", from); err != nil {
			return err
		}
		bo.To = day
		if to != "" {
			if bo.To, err = parseDay("to", to); err != nil {
				return err
			}
		}
		switch every {
		case "week":
			bo.Every = 7
		case "day":
			bo.Every = 1
		default:
			return usageError("--every %q: want week or day", every)
		}
		if bo.To.Before(bo.From) {
			return usageError("--to %s is before --from %s", bo.To.Format(time.DateOnly), bo.From.Format(time.DateOnly))
		}
	} else if to != "" {
		return usageError("--to needs --from")
	}
	db, err := openDB(ctx, cfg, 6)
	if err != nil {
		return err
	}
	defer db.Close()
	if pending, err := db.Pending(ctx); err != nil {
		return err
	} else if len(pending) > 0 {
		return fmt.Errorf("the database schema is not up to date (migrations %v pending): run `tensionmap migrate`", pending)
	}
	if from != "" {
		return runBackfill(ctx, env, db, bo, progressMode)
	}
	res, ok, err := engine.Run(ctx, db, cfg.engineConfig(), day, "cli")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("another engine run is in progress; try again when it ends")
	}
	if err := recordAudit(ctx, db, env, "engine.run", map[string]any{"run": res.RunID, "as_of": day.Format(time.DateOnly)}); err != nil {
		return err
	}
	res.Print(env.Stdout)
	return nil
}

// runBackfill replays the engine over bo's days with a progress bar.
func runBackfill(ctx context.Context, env *Env, db *postgis.DB, bo engine.BackfillOptions, mode string) error {
	total := len(bo.Days())
	var bar *progressbar.ProgressBar
	if mode == "auto" {
		mode = "log"
		if f, ok := env.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	switch mode {
	case "bar":
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("backfill"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	case "log", "none":
	default:
		return usageError("--progress %q: want bar, log, none or auto", mode)
	}
	last := time.Now()
	bo.Progress = func(done, total, alerts int) {
		switch {
		case bar != nil:
			bar.Describe(fmt.Sprintf("backfill: %d alerts", alerts))
			bar.Set(done)
		case mode == "log" && (time.Since(last) > 5*time.Second || done == total):
			last = time.Now()
			log.Info("backfill", "days_done", done, "days", total, "alerts", alerts)
		}
	}
	res, err := engine.Backfill(ctx, db, env.Config.engineConfig(), bo)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if err := recordAudit(ctx, db, env, "engine.backfill", map[string]any{"backfill": res.ID,
		"from": bo.From.Format(time.DateOnly), "to": bo.To.Format(time.DateOnly), "every_days": bo.Every}); err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "backfill %d: %d days from %s to %s in %s\n", res.ID, res.Days, bo.From.Format(time.DateOnly), bo.To.Format(time.DateOnly), res.Took.Round(time.Millisecond))
	fmt.Fprintf(w, "  alerts: %d opened, %d updated, from %d findings (detectors: %s)\n", res.Opened, res.Updated, res.Findings, strings.Join(engine.BackfillDetectors(env.Config.engineOptions()), ", "))
	if res.Partial > 0 {
		fmt.Fprintf(w, "  %d days partial: %v; first: %s\n", res.Partial, res.FailedDetectors, res.FirstFailureError)
	}
	fmt.Fprintf(w, "  review: tensionmap runs --backfill %d; GET /api/v1/alerts?backfill=%d; clear: tensionmap runs clear-backfill %d\n", res.ID, res.ID, res.ID)
	return nil
}
