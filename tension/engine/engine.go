package engine

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tensionmap/tensionmap/tension"
)

// Store is what a run reads and writes: the counts of the Source, the recent alerts
// and the run's record.
type Store interface {
	tension.Source
	// StartEngineRun records the start of a run, or returns ok false when another
	// run holds the engine. finish records its end.
	StartEngineRun(ctx context.Context, asOf time.Time, trigger string, params map[string]any) (id int64, finish func(counts map[string]int, runErr error) error, ok bool, err error)
	// StartBackfill records the start of a backfill over [from, to]; finish records
	// its end.
	StartBackfill(ctx context.Context, from, to time.Time, params map[string]any) (id int64, finish func(counts map[string]int, runErr error) error, err error)
	// StartBackfillRun is StartEngineRun for one day of a backfill.
	StartBackfillRun(ctx context.Context, backfillID int64, asOf time.Time, params map[string]any) (id int64, finish func(counts map[string]int, runErr error) error, ok bool, err error)
	// RecentAlerts returns the alerts last seen on or after since: the live ones
	// when backfill is 0, else that backfill's.
	RecentAlerts(ctx context.Context, since time.Time, backfill int64) ([]tension.Alert, error)
	// SaveEngineRun stores what a run found and the alerts it opened or updated,
	// and records the run's failures and seconds.
	SaveEngineRun(ctx context.Context, runID int64, rep *tension.Report, changes []tension.Change, draftLevel string, scale tension.Scale) (opened, updated, drafts int, err error)
	// DataVersion changes whenever incidents or areas change.
	DataVersion(ctx context.Context) (int64, error)
	// LastCompletedRun is the latest live run (not a backfill's) that completed,
	// done or partial: of the latest as-of day, the one that started last; zero
	// when none did.
	LastCompletedRun(ctx context.Context) (RunMark, error)
}

// RunMark is when a run was, as the scheduler needs it.
type RunMark struct {
	AsOf    time.Time // the analysis day
	Trigger string    // schedule, ingest, cli, api
	Started time.Time
}

// Config is how the engine runs: the detectors' settings, the rules suggesting a
// tension level, when alerts open assessment drafts and when the scheduler runs.
type Config struct {
	Options    tension.EngineOptions
	Rules      []tension.Rule
	Scale      tension.Scale
	DraftLevel string        // alerts at or above it open an assessment draft
	AlertGap   time.Duration // a finding this soon after an alert's last sighting updates it
	// Params are recorded with each run besides the detectors' settings (the rules'
	// text, for example).
	Params map[string]any
}

// Result summarises a run of the engine.
type Result struct {
	RunID                    int64
	AsOf                     time.Time
	Report                   *tension.Report
	Opened, Updated, Drafted int
	Took                     time.Duration
}

// params are the settings recorded with a run.
func (cfg Config) params(asOf time.Time) map[string]any {
	o := cfg.Options
	params := map[string]any{"as_of": asOf.Format(time.DateOnly), "scan_res": o.ScanRes, "scan_days": o.ScanDays,
		"scan_replicates": o.Scan.Replicates, "near_repeat_replicates": o.NearRepeat.Replicates, "farrington": "noufaily", "farrington_alpha": o.Farrington.Alpha,
		"hotspot_res": o.HotspotRes, "draft_level": cfg.DraftLevel}
	if len(o.Detectors) > 0 {
		params["detectors"] = o.Detectors
	}
	for k, v := range cfg.Params {
		params[k] = v
	}
	return params
}

// Run runs every detector as of a day, merges the findings into the recent alerts
// and stores it all. ok is false when another run held the engine. A detector that
// fails leaves the others' findings saved: the run ends partial and lists it. err is
// the run's own failure (the store's, or ctx's end), recorded as a failed run.
func Run(ctx context.Context, db Store, cfg Config, asOf time.Time, trigger string) (res Result, ok bool, err error) {
	id, finish, ok, err := db.StartEngineRun(ctx, asOf, trigger, cfg.params(asOf))
	if err != nil || !ok {
		return Result{AsOf: asOf}, ok, err
	}
	res, err = runDay(ctx, db, runSource(db, cfg.Options, asOf), cfg, asOf, id, finish, 0)
	return res, true, err
}

// runSource is what one run reads through: each kind of count is read once and
// shared by the detectors that ask for it (Farrington's areas answer EARS, the
// hot spots' year of cells answers the scan's half year at the same resolution),
// rather than read again from the database by each.
func runSource(db tension.Source, o tension.EngineOptions, asOf time.Time) tension.Source {
	p := NewPreload(db, asOf)
	if o.HotspotRes > 0 && o.HotspotRes == o.ScanRes {
		p.CellsFrom = map[int]time.Time{o.HotspotRes: day(asOf).AddDate(0, 0, -7*o.HotspotWeeks+1)}
	}
	if placer, ok := db.(tension.CellPlacer); ok {
		return placingPreload{p, placer}
	}
	return p
}

// placingPreload is a run's Preload that also places cells in areas, as the
// database it reads does (a backfill's Preload does not: it places no cells).
type placingPreload struct {
	*Preload
	placer tension.CellPlacer
}

func (p placingPreload) CellAreas(ctx context.Context, res int, level string, from, to time.Time) (map[uint64][]string, error) {
	return p.placer.CellAreas(ctx, res, level, from, to)
}

// runDay runs the detectors over src as of a day for the run id started, saves
// what they found into db and finishes the run. A backfill's day (backfill not 0)
// merges its findings into the backfill's alerts only.
func runDay(ctx context.Context, db Store, src tension.Source, cfg Config, asOf time.Time, id int64, finish func(map[string]int, error) error, backfill int64) (res Result, err error) {
	start := time.Now()
	res.AsOf, res.RunID = asOf, id
	counts := map[string]int{}
	defer func() {
		if ferr := finish(counts, err); ferr != nil && err == nil {
			err = ferr
		}
		res.Took = time.Since(start)
	}()
	rep, err := tension.Run(ctx, src, asOf, cfg.Options)
	if err != nil {
		return res, err
	}
	res.Report = rep
	for k, v := range rep.Counts {
		counts[k] = v
	}
	recent, err := db.RecentAlerts(ctx, asOf.Add(-cfg.AlertGap), backfill)
	if err != nil {
		return res, err
	}
	changes := tension.Merge(recent, rep.Findings, asOf, cfg.AlertGap, cfg.Rules, cfg.Scale)
	draft := cfg.DraftLevel
	if backfill != 0 {
		draft = "" // a backfill drafts no assessment
	}
	res.Opened, res.Updated, res.Drafted, err = db.SaveEngineRun(ctx, id, rep, changes, draft, cfg.Scale)
	counts["alerts_opened"], counts["alerts_updated"], counts["assessments_drafted"] = res.Opened, res.Updated, res.Drafted
	counts["detectors_failed"] = len(rep.Failures)
	return res, err
}

// Print writes a summary of the run for a person at a terminal.
func (res Result) Print(w io.Writer) {
	rep := res.Report
	fmt.Fprintf(w, "engine run %d as of %s took %s\n", res.RunID, res.AsOf.Format(time.DateOnly), res.Took.Round(time.Millisecond))
	fmt.Fprintf(w, "  series: farrington %d (%d with too little history), ears %d; scan %d cases in %d zones\n",
		rep.Counts["farrington_series"], rep.Counts["farrington_skipped"], rep.Counts["ears_series"], rep.Counts["scan_cases"], rep.Counts["scan_zones"])
	fmt.Fprintf(w, "  findings: %d (farrington %d, widespread %d, ears %d, scan %d, uplift %d)\n", len(rep.Findings),
		rep.Counts["farrington_alarms"], rep.Counts["widespread_findings"], rep.Counts["ears_alarms"], rep.Counts["scan_clusters"], rep.Counts["uplift_alarms"])
	fmt.Fprintf(w, "  alerts: %d opened, %d updated; %d assessment drafts\n", res.Opened, res.Updated, res.Drafted)
	fmt.Fprintf(w, "  hotspots: %d significant of %d cells at resolution %d; %d with an emerging pattern\n",
		rep.Counts["hotspot_cells"], rep.Counts["hotspot_study_cells"], rep.HotspotRes, rep.Counts["emerging_patterns"])
	if nr := rep.NearRepeat; nr != nil {
		if nr.Risk != nil {
			fmt.Fprintf(w, "  near repeat: raised risk within %.0f m for %d days of an incident, among %s; %d cells in today's risk zones\n", nr.Risk.Distance, nr.Risk.Days, nr.Coverage(), len(nr.Zones))
		} else {
			fmt.Fprintf(w, "  near repeat: no significant raised risk among %s\n", nr.Coverage())
		}
		if left := rep.Counts["near_repeat_located"] - rep.Counts["near_repeat_events"]; left > 0 {
			fmt.Fprintf(w, "  near repeat: %s earlier located incidents were left out: the test keeps to the latest whole days within its bound\n", strconv.Itoa(left))
		}
	}
	for _, u := range rep.Uplifts {
		fmt.Fprintf(w, "  trigger event %s (%s): measured\n", u.Event.Day.Format(time.DateOnly), u.Event.Description)
	}
	secs := ""
	for _, k := range tension.Detectors() {
		if v, ok := rep.Seconds[k]; ok {
			secs += fmt.Sprintf(" %s %.2fs", k, v)
		}
	}
	fmt.Fprintf(w, "  time:%s\n", secs)
	for _, f := range rep.Failures {
		fmt.Fprintf(w, "  FAILED %s: %s (the other detectors' findings are saved; the run is partial)\n", f.Detector, f.Error)
	}
}
