package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tensionmap/tensionmap/tension"
)

// BackfillOptions say which days a backfill replays.
type BackfillOptions struct {
	From, To time.Time // the first and last analysis days, both included
	Every    int       // days between analysis days: 7 weekly, 1 daily
	// Progress, when set, is told after each day how many are done of how many,
	// and the alerts opened so far.
	Progress func(done, total, alerts int)
	// Direct reads every day's counts from the store as a live run does, instead
	// of once for the whole period: the way it was, kept to measure against.
	Direct bool
	// Wait is how long to wait for a live run that holds the engine before trying
	// a day again (default one second).
	Wait time.Duration
}

// BackfillResult summarises a backfill.
type BackfillResult struct {
	ID                int64
	Days, Partial     int
	Opened, Updated   int
	Findings          int
	Took              time.Duration
	Seconds           map[string]float64 // per detector, summed over the days
	FailedDetectors   map[string]int     // days each detector failed
	FirstFailureError string
}

// BackfillDetectors are the detectors a backfill replays: those that raise alerts.
// Hot spots and near repeats describe the present (their maps are replaced by each
// live run) and raise none, so a backfill skips them.
func BackfillDetectors(o tension.EngineOptions) []string {
	var out []string
	for _, d := range tension.Detectors() {
		if d == "hotspots" || d == "near_repeat" {
			continue
		}
		if len(o.Detectors) == 0 || slices.Contains(o.Detectors, d) {
			out = append(out, d)
		}
	}
	return out
}

// Days returns the analysis days of a backfill: From, then every Every days up to To.
func (bo BackfillOptions) Days() []time.Time {
	every := max(bo.Every, 1)
	var out []time.Time
	for d := day(bo.From); !d.After(day(bo.To)); d = d.AddDate(0, 0, every) {
		out = append(out, d)
	}
	return out
}

// Backfill replays the engine over past days as it would have run on each, and
// stores the alerts it would have raised as one backfill: they merge among
// themselves across its days (never with live alerts), draft no assessment, and can
// be cleared together. The counts are read once for the whole period (Preload). A
// day whose detectors partly fail is saved partial and the backfill goes on; an
// error of the store ends it (recorded failed).
func Backfill(ctx context.Context, db Store, cfg Config, bo BackfillOptions) (res BackfillResult, err error) {
	start := time.Now()
	days := bo.Days()
	if len(days) == 0 {
		return res, fmt.Errorf("engine: backfill: no day from %s to %s", bo.From.Format(time.DateOnly), bo.To.Format(time.DateOnly))
	}
	cfg.Options.Detectors = BackfillDetectors(cfg.Options)
	params := cfg.params(days[len(days)-1])
	params["from"], params["to"], params["every_days"] = days[0].Format(time.DateOnly), days[len(days)-1].Format(time.DateOnly), max(bo.Every, 1)
	delete(params, "as_of")
	id, finish, err := db.StartBackfill(ctx, days[0], days[len(days)-1], params)
	if err != nil {
		return res, err
	}
	res.ID = id
	res.Seconds, res.FailedDetectors = map[string]float64{}, map[string]int{}
	defer func() {
		res.Took = time.Since(start)
		counts := map[string]int{"days": len(days), "days_done": res.Days, "days_partial": res.Partial,
			"alerts_opened": res.Opened, "alerts_updated": res.Updated, "findings": res.Findings}
		if ferr := finish(counts, err); ferr != nil && err == nil {
			err = ferr
		}
	}()
	var src tension.Source = NewPreload(db, days[len(days)-1])
	if bo.Direct {
		src = db
	}
	wait := bo.Wait
	if wait <= 0 {
		wait = time.Second
	}
	for _, d := range days {
		var runID int64
		var runFinish func(map[string]int, error) error
		for {
			var ok bool
			runID, runFinish, ok, err = db.StartBackfillRun(ctx, id, d, cfg.params(d))
			if err != nil {
				return res, err
			}
			if ok {
				break
			}
			select { // a live run holds the engine: wait for it
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(wait):
			}
		}
		r, err := runDay(ctx, db, src, cfg, d, runID, runFinish, id)
		if err != nil {
			return res, fmt.Errorf("engine: backfill day %s: %w", d.Format(time.DateOnly), err)
		}
		res.Days++
		res.Opened += r.Opened
		res.Updated += r.Updated
		res.Findings += len(r.Report.Findings)
		for k, v := range r.Report.Seconds {
			res.Seconds[k] += v
		}
		if len(r.Report.Failures) > 0 {
			res.Partial++
			for _, f := range r.Report.Failures {
				res.FailedDetectors[f.Detector]++
				if res.FirstFailureError == "" {
					res.FirstFailureError = d.Format(time.DateOnly) + " " + f.Detector + ": " + f.Error
				}
			}
		}
		if bo.Progress != nil {
			bo.Progress(res.Days, len(days), res.Opened)
		}
	}
	return res, nil
}
