package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// sliceReader reads raw incidents from memory.
type sliceReader struct {
	rows []geo.RawIncident
	i    int
}

func (r *sliceReader) Next() (*geo.RawIncident, error) {
	if r.i >= len(r.rows) {
		return nil, io.EOF
	}
	r.i++
	row := r.rows[r.i-1]
	row.Index, row.Line = r.i-1, r.i
	return &row, nil
}

// degenerate is one data set the engine must run over and save.
type degenerate struct {
	name      string
	areas     bool // import the demo town's areas
	noPop     bool // ... without their populations
	incidents []geo.RawIncident
	asOf      time.Time
	// wantNull is the reason of a value the run must store as null ("" for none
	// required).
	wantNull string
}

// point returns an incident at a place and day, of a strand, exactly located.
func point(ref string, at orb.Point, day time.Time, strand string) geo.RawIncident {
	return geo.RawIncident{Source: "police", SourceRef: ref, Kind: "crime", Strands: strand, Offence: "test",
		Occurred: day.Format(time.DateOnly), Lat: fmt.Sprint(at.Lat()), Lon: fmt.Sprint(at.Lon()), Precision: "exact"}
}

// degenerateCases are the named degenerate data sets and n seeded random ones, placed
// in the demo town's bound.
func degenerateCases(b orb.Bound, n int) []degenerate {
	centre := b.Center()
	span := func(r *rand.Rand) orb.Point {
		return orb.Point{b.Min.X() + r.Float64()*(b.Max.X()-b.Min.X()), b.Min.Y() + r.Float64()*(b.Max.Y()-b.Min.Y())}
	}
	r := rand.New(rand.NewPCG(1, 2))
	var distinct, identical, oneDay, oneStrand []geo.RawIncident
	for i := range 300 {
		distinct = append(distinct, point(fmt.Sprintf("D%d", i), span(r), testEnd.AddDate(0, 0, -r.IntN(3*365)), "race"))
		identical = append(identical, point(fmt.Sprintf("I%d", i), centre, testEnd, "religion"))
		oneDay = append(oneDay, point(fmt.Sprintf("S%d", i), span(r), testEnd.AddDate(0, 0, -3), "race;religion"))
		oneStrand = append(oneStrand, point(fmt.Sprintf("R%d", i), span(r), testEnd.AddDate(0, 0, -r.IntN(800)), "race"))
	}
	cases := []degenerate{
		{name: "no data", areas: true, asOf: testEnd},
		// No two points coincide: the same-location row expects no pair, and its ratio
		// (NaN) once lost the whole run.
		{name: "all points distinct", areas: true, incidents: distinct, asOf: testEnd, wantNull: "no pairs expected"},
		{name: "all identical", areas: true, incidents: identical, asOf: testEnd},
		{name: "one incident", areas: true, incidents: identical[:1], asOf: testEnd},
		{name: "a single day", areas: true, incidents: oneDay, asOf: testEnd},
		{name: "no areas", incidents: distinct, asOf: testEnd},
		{name: "areas with no population", areas: true, noPop: true, incidents: distinct, asOf: testEnd},
		{name: "strands with no reports", areas: true, incidents: oneStrand, asOf: testEnd},
		{name: "far in the future", areas: true, incidents: distinct, asOf: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "incident dated in the future", areas: true,
			incidents: append(slices.Clone(distinct[:50]), point("F1", centre, testEnd.AddDate(1, 0, 0), "race")), asOf: testEnd},
	}
	for seed := range n {
		r := rand.New(rand.NewPCG(uint64(seed), 99))
		var rows []geo.RawIncident
		spots := []orb.Point{span(r), span(r), centre}
		days := 1 + r.IntN(1500)
		for i := range r.IntN(400) {
			at := span(r)
			if r.IntN(3) == 0 { // some at the same few places
				at = spots[r.IntN(len(spots))]
			}
			strand := []string{"race", "religion", "sexual_orientation", "race;religion"}[r.IntN(4)]
			rows = append(rows, point(fmt.Sprintf("X%d", i), at, testEnd.AddDate(0, 0, -r.IntN(days)), strand))
		}
		cases = append(cases, degenerate{name: fmt.Sprintf("random %d", seed), areas: r.IntN(5) > 0, noPop: r.IntN(3) == 0,
			incidents: rows, asOf: testEnd.AddDate(0, 0, r.IntN(60)-30)})
	}
	return cases
}

// engineConfig is the service's engine configuration with few replicates.
func testEngineConfig(tb testing.TB) engine.Config {
	tb.Helper()
	o := tension.DefaultEngineOptions()
	o.Strands = geo.DefaultStrands
	o.Scan.Replicates, o.NearRepeat.Replicates = 19, 19
	rules, err := tension.ParseRules(tension.DefaultRules, tension.DefaultScale)
	if err != nil {
		tb.Fatal(err)
	}
	return engine.Config{Options: o, Rules: rules, Scale: tension.DefaultScale, DraftLevel: "high", AlertGap: 14 * 24 * time.Hour}
}

// TestEngineSavesDegenerateData drives the whole engine (tension.Run through
// engine.Run) and its store over degenerate data: every run saves, done or partial.
func TestEngineSavesDegenerateData(t *testing.T) {
	n := 50
	if testing.Short() {
		n = 5
	}
	g := demo(t, 10)
	b, _ := geo.AreasBound(g.GeoAreas())
	cfg := testEngineConfig(t)
	for _, c := range degenerateCases(b, n) {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t)
			if c.areas {
				if _, err := db.ImportAreas(ctx, g.GeoAreas()); err != nil {
					t.Fatal(err)
				}
				if !c.noPop {
					if _, err := db.SetPopulation(ctx, g.Populations()); err != nil {
						t.Fatal(err)
					}
				}
			}
			p := newPipeline(t, db, geo.Defaults{})
			if _, err := p.ingest(ctx, t, &sliceReader{rows: c.incidents}, 100); err != nil {
				t.Fatal(err)
			}
			res, ok, err := engine.Run(ctx, db, cfg, c.asOf, "test")
			if err != nil || !ok {
				t.Fatalf("run: ok %v, %v", ok, err)
			}
			run, err := db.EngineRun(ctx, res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != "done" && run.Status != "partial" {
				t.Fatalf("run %s: %s (%s), want done or partial", run.Status, run.Error, run.Failures)
			}
			if len(run.Failures) != len(res.Report.Failures) {
				t.Errorf("run recorded %d failures, the report has %v", len(run.Failures), res.Report.Failures)
			}
			if got := run.Counts["findings"]; got != len(res.Report.Findings) {
				t.Errorf("run recorded %d findings, got %d", got, len(res.Report.Findings))
			}
			if c.wantNull != "" && !slices.ContainsFunc(run.Nulls, func(n tension.NullValue) bool { return n.Reason == c.wantNull }) {
				t.Errorf("nulls %v; want one because %s", run.Nulls, c.wantNull)
			}
			if nr, _, err := db.NearRepeat(ctx); c.wantNull != "" && (err != nil || !math.IsNaN(nr.Table.Ratio[0][0])) {
				t.Errorf("near repeat read back: %v; want the same-location ratio not a number", err)
			}
			for _, d := range tension.Detectors() {
				if _, ok := run.Seconds[d]; !ok {
					t.Errorf("no seconds recorded for %s: %v", d, run.Seconds)
				}
			}
		})
	}
}

// failingSource is the store with some Source methods failing: one returns an
// error, one panics.
type failingSource struct {
	*postgis.DB
}

func (f failingSource) LocatedIncidents(context.Context, time.Time, time.Time) ([]tension.Located, error) {
	return nil, errors.New("located incidents are unavailable")
}

func (f failingSource) TriggerEvents(context.Context, time.Time, time.Time) ([]tension.TriggerEvent, error) {
	panic("trigger events exploded")
}

// TestFailingDetectorFailsAlone runs the engine over a store whose near-repeat and
// uplift reads fail: the other detectors' findings and analyses are saved and the
// run is partial, listing both with their errors.
func TestFailingDetectorFailsAlone(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 6000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})
	if _, err := p.ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	// A burst at one place on the last days, for the working detectors to find.
	b, _ := geo.AreasBound(g.GeoAreas())
	var burst []geo.RawIncident
	for i := range 60 {
		burst = append(burst, point(fmt.Sprintf("B%d", i), b.Center(), testEnd.AddDate(0, 0, -(i%2)), "race"))
	}
	if _, err := p.ingest(ctx, t, &sliceReader{rows: burst}, 100); err != nil {
		t.Fatal(err)
	}
	cfg := testEngineConfig(t)
	cfg.DraftLevel = ""
	res, ok, err := engine.Run(ctx, failingSource{db}, cfg, testEnd, "test")
	if err != nil || !ok {
		t.Fatalf("run: ok %v, %v", ok, err)
	}
	run, err := db.EngineRun(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range run.Failures {
		failed = append(failed, f.Detector)
	}
	if run.Status != "partial" || !slices.Equal(failed, []string{"near_repeat", "uplift"}) {
		t.Fatalf("run %s with failures %v; want partial with near_repeat and uplift", run.Status, run.Failures)
	}
	for _, f := range run.Failures {
		if f.Error == "" {
			t.Errorf("%s failed with no reason", f.Detector)
		}
	}
	// What the other detectors found is stored.
	alerts, err := db.Alerts(ctx, tension.AlertFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != res.Opened {
		t.Errorf("%d alerts stored, %d opened", len(alerts), res.Opened)
	}
	if len(res.Report.Findings) == 0 || res.Opened == 0 {
		t.Errorf("%d findings, %d alerts opened: want the working detectors' findings saved", len(res.Report.Findings), res.Opened)
	}
	if _, _, runID, hs, err := db.Hotspots(ctx, res.Report.HotspotRes); err != nil || runID != res.RunID || len(hs) == 0 {
		t.Errorf("hotspots of run %d: %d, %v; want those of run %d", runID, len(hs), err, res.RunID)
	}
	if _, _, err := db.NearRepeat(ctx); geo.ErrorCode(err) != geo.ENOTFOUND {
		t.Errorf("near repeat after its detector failed: %v, want none", err)
	}
}

// TestBackfillAndClear replays the engine over past weeks: its alerts are the
// backfill's (never merged with live ones, no drafts), the current-state analyses
// stay the live run's, and clearing it deletes exactly its alerts.
func TestBackfillAndClear(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 6000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})
	if _, err := p.ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	b, _ := geo.AreasBound(g.GeoAreas())
	var burst []geo.RawIncident
	for i := range 60 {
		burst = append(burst, point(fmt.Sprintf("B%d", i), b.Center(), testEnd.AddDate(0, 0, -7-(i%2)), "race"))
	}
	if _, err := p.ingest(ctx, t, &sliceReader{rows: burst}, 100); err != nil {
		t.Fatal(err)
	}
	cfg := testEngineConfig(t)
	cfg.DraftLevel = "low" // a live run drafts for every alert; a backfill for none
	live, ok, err := engine.Run(ctx, db, cfg, testEnd, "schedule")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if last, err := db.LastCompletedRun(ctx); err != nil || !last.AsOf.Equal(testEnd) || last.Trigger != "schedule" {
		t.Errorf("last completed run %+v, %v; want the scheduled run of %s", last, err, testEnd)
	}
	liveAlerts, _ := db.Alerts(ctx, tension.AlertFilter{Limit: 1000})
	drafts := count(t, db, "SELECT count(*) FROM assessments")
	var progress [][3]int
	bf, err := engine.Backfill(ctx, db, cfg, engine.BackfillOptions{From: testEnd.AddDate(0, 0, -21), To: testEnd, Every: 7,
		Progress: func(done, total, alerts int) { progress = append(progress, [3]int{done, total, alerts}) }})
	if err != nil {
		t.Fatal(err)
	}
	if bf.Days != 4 || len(progress) != 4 || progress[3][0] != 4 || progress[3][1] != 4 {
		t.Fatalf("backfill of %d days, progress %v; want 4", bf.Days, progress)
	}
	if bf.Opened == 0 {
		t.Fatal("the backfill opened no alert over the burst")
	}
	mine, err := db.Alerts(ctx, tension.AlertFilter{Limit: 1000, Backfill: bf.ID})
	if err != nil || len(mine) != bf.Opened {
		t.Fatalf("%d alerts of the backfill, %v; want %d", len(mine), err, bf.Opened)
	}
	for _, a := range mine {
		if a.BackfillID != bf.ID || a.AssessmentID != 0 {
			t.Errorf("alert %d: backfill %d, assessment %d; want backfill %d and no draft", a.ID, a.BackfillID, a.AssessmentID, bf.ID)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM assessments"); n != drafts {
		t.Errorf("%d assessments after the backfill, %d before", n, drafts)
	}
	after, _ := db.Alerts(ctx, tension.AlertFilter{Limit: 1000})
	if len(after) != len(liveAlerts) {
		t.Errorf("%d live alerts after the backfill, %d before", len(after), len(liveAlerts))
	}
	if _, _, runID, _, _ := db.Hotspots(ctx, cfg.Options.HotspotRes); runID != live.RunID {
		t.Errorf("hotspots of run %d after the backfill, want the live run %d", runID, live.RunID)
	}
	runs, err := db.EngineRuns(ctx, tension.RunFilter{Backfill: bf.ID})
	if err != nil || len(runs) != 5 || runs[len(runs)-1].ID != bf.ID && runs[0].ID != bf.ID {
		t.Fatalf("backfill runs: %d, %v; want its record and 4 days", len(runs), err)
	}
	for _, r := range runs {
		if r.Status != "done" {
			t.Errorf("run %d (%s): %s", r.ID, r.Trigger, r.Status)
		}
	}
	top, _ := db.EngineRuns(ctx, tension.RunFilter{})
	if len(top) != 2 {
		t.Errorf("%d runs listed without a backfill, want the live run and the backfill", len(top))
	}
	if last, _ := db.LastCompletedRun(ctx); !last.AsOf.Equal(testEnd) || last.Trigger != "schedule" {
		t.Errorf("last completed run %+v after a backfill ending on its day, want the scheduled run", last)
	}
	n, err := db.ClearBackfill(ctx, bf.ID)
	if err != nil || n != bf.Opened {
		t.Fatalf("cleared %d alerts, %v; want %d", n, err, bf.Opened)
	}
	if left := count(t, db, "SELECT count(*) FROM alerts WHERE backfill_id IS NOT NULL"); left != 0 {
		t.Errorf("%d backfill alerts left", left)
	}
	if got, _ := db.Alerts(ctx, tension.AlertFilter{Limit: 1000}); len(got) != len(liveAlerts) {
		t.Errorf("%d live alerts after clearing, want %d", len(got), len(liveAlerts))
	}
	if r, _ := db.EngineRun(ctx, bf.ID); r.Status != "cleared" {
		t.Errorf("backfill status %s after clearing", r.Status)
	}
	if _, err := db.ClearBackfill(ctx, live.RunID); geo.ErrorCode(err) != geo.ENOTFOUND {
		t.Errorf("clearing a live run: %v, want ENOTFOUND", err)
	}
}
