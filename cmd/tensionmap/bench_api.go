package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/web"
)

// runBenchAPI times /api/v1/areas over periods from 28 days to all time on the demo
// data: through the server (whole months from the monthly roll-up, the partial ones
// from the daily) and, as the reference, the same counts from the daily roll-up
// alone, as they were answered before the monthly roll-up. It prints each period's
// median time and its ratio to 28 days.
func runBenchAPI(ctx context.Context, env *Env, args []string) error {
	var rows, runs int
	fs := newFlagSet(env, "bench api", "bench api [--rows N] [--runs N]")
	fs.IntVar(&rows, "rows", 1_000_000, "demo incidents to load")
	fs.IntVar(&runs, "runs", 7, "calls per period and path; the median counts")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	cfg := env.Config
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	out := env.Stdout
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	g, err := synth.New(synth.Options{Seed: 1, Rows: rows, Years: 5, End: end})
	if err != nil {
		return err
	}
	url, drop, err := postgis.ScratchDatabase(ctx, cfg.DatabaseURL, "tensionmap_bench_api")
	if err != nil {
		return err
	}
	defer drop()
	db, err := postgis.Open(ctx, url, postgis.Options{MaxConns: 8, StatementTimeout: time.Minute})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	areas := g.GeoAreas()
	if _, err := loadBenchDemo(ctx, env, db, &cfg, g, areas, true, end, "bench api", fmt.Sprintf("%d demo incidents", rows)); err != nil {
		return err
	}
	if _, err := db.Pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	cookie, err := benchSession(ctx, db)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv := httptest.NewServer(web.New(web.Options{Version: "bench", Strands: cfg.Strands, Sources: cfg.Sources,
		Unavailable: postgis.Unavailable}, db, nil, log, nil))
	defer srv.Close()
	client := &http.Client{Timeout: 2 * time.Minute}
	get := func(path string) error {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		if err != nil {
			return err
		}
		req.AddCookie(&http.Cookie{Name: "tm_session", Value: cookie})
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %d", path, res.StatusCode)
		}
		return nil
	}
	median := func(do func() error) (time.Duration, error) {
		var ds []time.Duration
		for range runs {
			start := time.Now()
			if err := do(); err != nil {
				return 0, err
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2], nil
	}
	periods := []struct {
		name string
		f    geo.Filter
	}{
		{"28 days", geo.Filter{From: end.AddDate(0, 0, -27), To: end}},
		{"1 year", geo.Filter{From: end.AddDate(-1, 0, 1), To: end}},
		{"all time", geo.Filter{From: end.AddDate(-5, 0, 0), To: end}},
	}
	fmt.Fprintf(out, "GET /api/v1/areas?level=lsoa on %d demo incidents (%d areas), median of %d calls, GOMAXPROCS %d\n\n",
		rows, len(areas), runs, runtimeProcs())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "period\tdaily roll-up only ms\tratio to 28 days\tmonthly + daily ms\tratio to 28 days\tthrough the server ms\tratio to 28 days\t")
	var base [3]time.Duration
	for i, p := range periods {
		daily, err := median(func() error { _, err := db.AreaCountsDaily(ctx, "lsoa", p.f); return err })
		if err != nil {
			return err
		}
		monthly, err := median(func() error { _, err := db.AreaCounts(ctx, "lsoa", p.f); return err })
		if err != nil {
			return err
		}
		server, err := median(func() error {
			return get("/api/v1/areas?level=lsoa&from=" + p.f.From.Format(time.DateOnly) + "&to=" + p.f.To.Format(time.DateOnly))
		})
		if err != nil {
			return err
		}
		if i == 0 {
			base = [3]time.Duration{daily, monthly, server}
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", p.name, ms(daily), float64(daily)/float64(base[0]),
			ms(monthly), float64(monthly)/float64(base[1]), ms(server), float64(server)/float64(base[2]))
	}
	return tw.Flush()
}
