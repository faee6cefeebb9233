package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// engineOptions are the detectors' settings for this configuration.
func (c *Config) engineOptions() tension.EngineOptions {
	o := tension.DefaultEngineOptions()
	o.Strands = c.Strands
	o.Scan.Replicates = c.ScanReplicates
	o.NearRepeat.Replicates = c.ScanReplicates
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
	var asOf string
	fs := newFlagSet(env, "scan", "scan [--as-of YYYY-MM-DD]")
	fs.StringVar(&asOf, "as-of", "", "the analysis day (default: today)")
	fs.IntVar(&env.Config.ScanReplicates, "replicates", env.Config.ScanReplicates, "Monte Carlo replicates of the scan and near-repeat tests (env TENSIONMAP_SCAN_REPLICATES)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	cfg := &env.Config
	day := cfg.today()
	if asOf != "" {
		t, err := time.Parse(time.DateOnly, asOf)
		if err != nil {
			return usageError("--as-of %q: want a day such as 2024-03-31", asOf)
		}
		day = t
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
