package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
)

// engineOptions are the detectors' settings for this configuration.
func (c *Config) engineOptions() tension.EngineOptions {
	o := tension.DefaultEngineOptions()
	o.Strands = c.Strands
	o.Scan.Replicates = c.ScanReplicates
	o.NearRepeat.Replicates = c.ScanReplicates
	return o
}

// engineResult summarises a run of the engine.
type engineResult struct {
	RunID                    int64
	Report                   *tension.Report
	Opened, Updated, Drafted int
	Took                     time.Duration
}

// runEngine runs every detector as of a day, merges the findings into the recent
// alerts and stores it all. ok is false when another run held the engine.
func runEngine(ctx context.Context, db *postgis.DB, cfg *Config, asOf time.Time, trigger string) (res engineResult, ok bool, err error) {
	start := time.Now()
	o := cfg.engineOptions()
	params := map[string]any{"as_of": asOf.Format(time.DateOnly), "scan_res": o.ScanRes, "scan_days": o.ScanDays,
		"scan_replicates": o.Scan.Replicates, "farrington": "noufaily", "farrington_alpha": o.Farrington.Alpha,
		"hotspot_res": o.HotspotRes, "rules": cfg.TensionRules, "draft_level": cfg.DraftLevel}
	id, finish, ok, err := db.StartEngineRun(ctx, asOf, trigger, params)
	if err != nil || !ok {
		return res, ok, err
	}
	res.RunID = id
	counts := map[string]int{}
	defer func() {
		if ferr := finish(counts, err); ferr != nil && err == nil {
			err = ferr
		}
	}()
	rep, err := tension.Run(ctx, db, asOf, o)
	if err != nil {
		return res, true, err
	}
	res.Report = rep
	for k, v := range rep.Counts {
		counts[k] = v
	}
	recent, err := db.RecentAlerts(ctx, asOf.Add(-cfg.AlertGap))
	if err != nil {
		return res, true, err
	}
	changes := tension.Merge(recent, rep.Findings, asOf, cfg.AlertGap, cfg.rules, cfg.TensionScale)
	res.Opened, res.Updated, res.Drafted, err = db.SaveEngineRun(ctx, id, rep, changes, cfg.DraftLevel, cfg.TensionScale)
	counts["alerts_opened"], counts["alerts_updated"], counts["assessments_drafted"] = res.Opened, res.Updated, res.Drafted
	res.Took = time.Since(start)
	return res, true, err
}

// today is the current day in the service's zone, as a date.
func (c *Config) today() time.Time {
	y, m, d := time.Now().In(c.location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// scheduler runs the engine inside serve: once a day at the configured time, and
// after new data arrive (a change of the data version, at most every debounce).
type scheduler struct {
	db       *postgis.DB
	cfg      *Config
	log      *slog.Logger
	debounce time.Duration
	kick     chan struct{}

	mu      sync.Mutex
	lastDay time.Time // the day of the last scheduled run
	lastRun time.Time
	seenVer int64
}

// Kick asks for a run soon, after an ingest through the API.
func (s *scheduler) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *scheduler) loop(ctx context.Context, ready <-chan struct{}) {
	select {
	case <-ctx.Done():
		return
	case <-ready:
	}
	if v, err := s.db.DataVersion(ctx); err == nil {
		s.seenVer = v
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		s.maybeRun(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
		}
	}
}

func (s *scheduler) maybeRun(ctx context.Context) {
	now := time.Now().In(s.cfg.location)
	today := s.cfg.today()
	trigger := ""
	if s.cfg.EngineAt != "off" {
		at, _ := time.Parse("15:04", s.cfg.EngineAt)
		due := time.Date(now.Year(), now.Month(), now.Day(), at.Hour(), at.Minute(), 0, 0, s.cfg.location)
		if !now.Before(due) && s.lastDay.Before(today) {
			trigger = "schedule"
		}
	}
	if trigger == "" && s.cfg.EngineAfterIngest && time.Since(s.lastRun) >= s.debounce {
		if v, err := s.db.DataVersion(ctx); err == nil && v != s.seenVer {
			trigger = "ingest"
		}
	}
	if trigger == "" {
		return
	}
	ver, _ := s.db.DataVersion(ctx)
	res, ok, err := runEngine(ctx, s.db, s.cfg, today, trigger)
	s.lastRun = time.Now()
	switch {
	case err != nil:
		s.log.Error("engine run failed", "trigger", trigger, "err", err)
		return
	case !ok:
		s.log.Info("engine run skipped: another is running", "trigger", trigger)
		return
	}
	if trigger == "schedule" {
		s.lastDay = today
	}
	// Data that arrived during the run changed the version since: the next tick runs again.
	s.seenVer = ver
	s.log.Info("engine run", "run", res.RunID, "trigger", trigger, "as_of", today.Format(time.DateOnly),
		"findings", len(res.Report.Findings), "opened", res.Opened, "updated", res.Updated, "drafts", res.Drafted, "took", res.Took.Round(time.Millisecond))
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
	res, ok, err := runEngine(ctx, db, cfg, day, "cli")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("another engine run is in progress; try again when it ends")
	}
	if err := recordAudit(ctx, db, env, "engine.run", map[string]any{"run": res.RunID, "as_of": day.Format(time.DateOnly)}); err != nil {
		return err
	}
	printEngineResult(env, day, res)
	return nil
}

func printEngineResult(env *Env, day time.Time, res engineResult) {
	rep := res.Report
	w := env.Stdout
	fmt.Fprintf(w, "engine run %d as of %s took %s\n", res.RunID, day.Format(time.DateOnly), res.Took.Round(time.Millisecond))
	fmt.Fprintf(w, "  series: farrington %d (%d with too little history), ears %d; scan %d cases in %d zones\n",
		rep.Counts["farrington_series"], rep.Counts["farrington_skipped"], rep.Counts["ears_series"], rep.Counts["scan_cases"], rep.Counts["scan_zones"])
	fmt.Fprintf(w, "  findings: %d (farrington %d, ears %d, scan %d, uplift %d)\n", len(rep.Findings),
		rep.Counts["farrington_alarms"], rep.Counts["ears_alarms"], rep.Counts["scan_clusters"], rep.Counts["uplift_alarms"])
	fmt.Fprintf(w, "  alerts: %d opened, %d updated; %d assessment drafts\n", res.Opened, res.Updated, res.Drafted)
	fmt.Fprintf(w, "  hotspots: %d significant of %d cells at resolution %d; %d with an emerging pattern\n",
		rep.Counts["hotspot_cells"], rep.Counts["hotspot_study_cells"], rep.HotspotRes, rep.Counts["emerging_patterns"])
	if nr := rep.NearRepeat; nr != nil {
		if nr.Risk != nil {
			fmt.Fprintf(w, "  near repeat: raised risk within %.0f m for %d days of an incident; %d cells in today's risk zones\n", nr.Risk.Distance, nr.Risk.Days, len(nr.Zones))
		} else {
			fmt.Fprintf(w, "  near repeat: no significant raised risk among %d incidents\n", nr.Table.Events)
		}
	}
	for _, u := range rep.Uplifts {
		fmt.Fprintf(w, "  trigger event %s (%s): measured\n", u.Event.Day.Format(time.DateOnly), u.Event.Description)
	}
	secs := ""
	for _, k := range []string{"farrington", "ears", "scan", "hotspots", "near_repeat", "uplift"} {
		secs += fmt.Sprintf(" %s %.2fs", k, rep.Seconds[k])
	}
	fmt.Fprintf(w, "  time:%s\n", secs)
}
