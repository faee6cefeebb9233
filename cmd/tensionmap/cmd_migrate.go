package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tensionmap/tensionmap/postgis"
)

// openDB connects to the configured database.
func openDB(ctx context.Context, cfg *Config, maxConns int32) (*postgis.DB, error) {
	if err := cfg.needDatabase(); err != nil {
		return nil, err
	}
	return postgis.Open(ctx, cfg.DatabaseURL, postgis.Options{MaxConns: maxConns})
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "migrate", "migrate [flags]")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.Stdout, "the schema is up to date")
		return nil
	}
	fmt.Fprintf(env.Stdout, "applied migrations %v in %s\n", applied, time.Since(start).Round(time.Millisecond))
	return nil
}

func runRollups(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "rollups", "rollups rebuild|merge [flags]")
	if len(args) == 0 || (args[0] != "rebuild" && args[0] != "merge") {
		fs.Usage()
		return usageError("want `rollups rebuild` or `rollups merge`")
	}
	if err := parse(env, fs, args[1:]); err != nil {
		return err
	}
	db, err := openDB(ctx, &env.Config, 5)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if args[0] == "merge" {
		if err := db.CompactRollups(ctx); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "merged the roll-up rows of each key in %s\n", time.Since(start).Round(time.Millisecond))
		return nil
	}
	if err := db.RebuildRollups(ctx, env.Config.Resolutions); err != nil {
		return err
	}
	if err := recordAudit(ctx, db, env, "rollups.rebuild", map[string]any{"resolutions": env.Config.Resolutions}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "rebuilt the roll-ups at resolutions %v in %s\n", env.Config.Resolutions, time.Since(start).Round(time.Millisecond))
	return nil
}
