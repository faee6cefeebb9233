package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/web"
)

// APIOptions are the settings of API.
type APIOptions struct {
	Rows int    // demo incidents to load
	Runs int    // calls per period and path
	Stat string // the time a path is given of its calls: "median", or "min"
}

// API times /api/v1/areas over periods from 28 days to all time on the demo
// data, with no filter and with strands, kind and source: the counts from the daily
// roll-up alone, from the monthly roll-up and the daily (as before the tree), from
// the tree of monthly counts and the daily (the service's own), and through the
// server for a police and a strategic user. It prints each median (or least) time and its
// ratio to the same path's 28 days.
func API(ctx context.Context, env *Env, o APIOptions) error {
	rows, runs, stat := o.Rows, o.Runs, o.Stat
	out := env.Stdout
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	g, err := synth.New(synth.Options{Seed: 1, Rows: rows, Years: 5, End: end})
	if err != nil {
		return err
	}
	db, done, err := env.scratch(ctx, "tensionmap_bench_api", postgis.Options{MaxConns: 8, StatementTimeout: time.Minute})
	if err != nil {
		return err
	}
	defer done()
	areas := g.GeoAreas()
	if _, err := loadDemo(ctx, env, db, g, areas, true, end, "bench api", fmt.Sprintf("%d demo incidents", rows)); err != nil {
		return err
	}
	if _, err := db.Pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	cookies := map[access.Role]string{}
	for _, role := range []access.Role{access.Police, access.Strategic} {
		if cookies[role], err = session(ctx, db, role); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv := httptest.NewServer(web.New(web.Options{Version: "bench", Strands: env.Strands, Sources: env.Sources,
		Unavailable: postgis.Unavailable}, db, nil, log, nil))
	defer srv.Close()
	client := &http.Client{Timeout: 2 * time.Minute}
	get := func(role access.Role, path string) error {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		if err != nil {
			return err
		}
		req.AddCookie(&http.Cookie{Name: "tm_session", Value: cookies[role]})
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
		if stat == "min" {
			return ds[0], nil
		}
		return ds[len(ds)/2], nil
	}
	periods := apiPeriods(end, 5)
	// Each period alone, and with a filter of every kind the route takes.
	filtered := apiFilter(env)
	query := areasQuery
	fmt.Fprintf(out, "GET /api/v1/areas?level=lsoa on %d demo incidents (%d areas), %s of %d calls, GOMAXPROCS %d\n", rows, len(areas), stat, runs, runtimeProcs())
	fmt.Fprintf(out, "filtered: strands %s, kind %s, source %s; strategic: the published period the server answers for the one asked\n\n",
		strings.Join(filtered.Strands, ","), filtered.Kinds[0], filtered.Sources[0])
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "period\tfilter\tdaily only ms\tx 28 days\ttree + daily ms\tx 28 days\tserver, police ms\tx 28 days\tserver, strategic ms\tx 28 days\t")
	for _, filter := range []bool{false, true} {
		var base [4]time.Duration
		for i, p := range periods {
			f := p.f
			name := "none"
			if filter {
				f.Strands, f.Kinds, f.Sources = filtered.Strands, filtered.Kinds, filtered.Sources
				name = "all three"
			}
			var ts [4]time.Duration
			for j, do := range []func() error{
				func() error { _, err := db.AreaCountsDaily(ctx, "lsoa", f); return err },
				func() error { _, err := db.AreaCounts(ctx, "lsoa", f); return err },
				func() error { return get(access.Police, query(f)) },
				func() error { return get(access.Strategic, query(f)) },
			} {
				if ts[j], err = median(do); err != nil {
					return err
				}
			}
			if i == 0 {
				base = ts
			}
			fmt.Fprintf(tw, "%s\t%s\t", p.name, name)
			for j := range ts {
				fmt.Fprintf(tw, "%.1f\t%.1f\t", ms(ts[j]), float64(ts[j])/float64(base[j]))
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}

// apiPeriod is a period /api/v1/areas is asked for.
type apiPeriod struct {
	name string
	f    geo.Filter
}

// apiPeriods are 28 days, a year and all the years of data ending on end.
func apiPeriods(end time.Time, years int) []apiPeriod {
	return []apiPeriod{
		{"28 days", geo.Filter{From: end.AddDate(0, 0, -27), To: end}},
		{"1 year", geo.Filter{From: end.AddDate(-1, 0, 1), To: end}},
		{"all time", geo.Filter{From: end.AddDate(-years, 0, 0), To: end}},
	}
}

// apiFilter is a filter of every kind /api/v1/areas takes: two strands, a kind, a source.
func apiFilter(env *Env) geo.Filter {
	return geo.Filter{Strands: env.Strands[:min(2, len(env.Strands))], Kinds: []geo.Kind{geo.KindCrime}, Sources: env.Sources[:1]}
}

// areasQuery is the path and query of /api/v1/areas?level=lsoa for a filter.
func areasQuery(f geo.Filter) string {
	q := url.Values{"level": {"lsoa"}, "from": {f.From.Format(time.DateOnly)}, "to": {f.To.Format(time.DateOnly)}}
	if len(f.Strands) > 0 {
		q.Set("strand", strings.Join(f.Strands, ","))
		q.Set("kind", string(f.Kinds[0]))
		q.Set("source", f.Sources[0])
	}
	return "/api/v1/areas?" + q.Encode()
}
