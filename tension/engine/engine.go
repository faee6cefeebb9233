package engine

import (
	"context"
	"fmt"
	"io"
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
	// RecentAlerts returns the alerts last seen on or after since.
	RecentAlerts(ctx context.Context, since time.Time) ([]tension.Alert, error)
	// SaveEngineRun stores what a run found and the alerts it opened or updated.
	SaveEngineRun(ctx context.Context, runID int64, rep *tension.Report, changes []tension.Change, draftLevel string, scale tension.Scale) (opened, updated, drafts int, err error)
	// DataVersion changes whenever incidents or areas change.
	DataVersion(ctx context.Context) (int64, error)
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

// Run runs every detector as of a day, merges the findings into the recent alerts
// and stores it all. ok is false when another run held the engine.
func Run(ctx context.Context, db Store, cfg Config, asOf time.Time, trigger string) (res Result, ok bool, err error) {
	start := time.Now()
	o := cfg.Options
	res.AsOf = asOf
	params := map[string]any{"as_of": asOf.Format(time.DateOnly), "scan_res": o.ScanRes, "scan_days": o.ScanDays,
		"scan_replicates": o.Scan.Replicates, "farrington": "noufaily", "farrington_alpha": o.Farrington.Alpha,
		"hotspot_res": o.HotspotRes, "draft_level": cfg.DraftLevel}
	for k, v := range cfg.Params {
		params[k] = v
	}
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
	changes := tension.Merge(recent, rep.Findings, asOf, cfg.AlertGap, cfg.Rules, cfg.Scale)
	res.Opened, res.Updated, res.Drafted, err = db.SaveEngineRun(ctx, id, rep, changes, cfg.DraftLevel, cfg.Scale)
	counts["alerts_opened"], counts["alerts_updated"], counts["assessments_drafted"] = res.Opened, res.Updated, res.Drafted
	res.Took = time.Since(start)
	return res, true, err
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
