package postgis_test

import (
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
)

// memorySource counts the same generated town in memory, as the evaluation does.
func memorySource(tb testing.TB, db *postgis.DB, p *pipeline, rows int) *tension.MemorySource {
	tb.Helper()
	g := demo(tb, rows)
	areas, err := db.LoadAreas(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	ix := geo.NewAreaIndex(areas)
	var incidents []tension.MemoryIncident
	r := g.Reader()
	for {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		in, err := p.validator.Validate(raw)
		if err != nil {
			tb.Fatal(err)
		}
		in.Cell = p.binner.Cell(in)
		if in.Cell != 0 {
			in.Areas = ix.Containing(nil, in.Location)
		}
		incidents = append(incidents, tension.FromIncident(in))
	}
	return tension.NewMemorySource(areas, incidents, nil, geo.DefaultStrands)
}

// TestSourceAgreesWithMemory checks that the counts the engine reads from the
// roll-ups equal those counted from the incidents in memory.
func TestSourceAgreesWithMemory(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 4000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})
	if _, err := p.ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	mem := memorySource(t, db, p, 4000)
	from, to := testEnd.AddDate(0, -6, 0), testEnd
	equal := func(what string, a, b *tension.Series, unitsA, unitsB []string) {
		t.Helper()
		ia := map[string]int{}
		for i, u := range unitsA {
			ia[u] = i
		}
		for strand, rows := range b.Counts {
			for j, u := range unitsB {
				i, ok := ia[u]
				if !ok {
					t.Fatalf("%s: unit %s missing from the database's answer", what, u)
				}
				if !slices.Equal(a.Counts[strand][i], rows[j]) {
					t.Fatalf("%s %s strand %q: database %v, memory %v", what, u, strand, a.Counts[strand][i], rows[j])
				}
			}
		}
	}
	for _, level := range []string{"lsoa", "ward"} {
		da, ds, err := db.AreaDays(ctx, level, from, to)
		if err != nil {
			t.Fatal(err)
		}
		ma, ms, _ := mem.AreaDays(ctx, level, from, to)
		codes := func(as []geo.Area) []string {
			var out []string
			for _, a := range as {
				out = append(out, a.Code)
			}
			return out
		}
		equal("area "+level, ds, ms, codes(da), codes(ma))
	}
	for _, res := range []int{7, 8} {
		dc, ds, err := db.CellDays(ctx, res, from, to)
		if err != nil {
			t.Fatal(err)
		}
		mc, ms, _ := mem.CellDays(ctx, res, from, to)
		if len(dc) != len(mc) {
			t.Fatalf("res %d: %d cells from the database, %d in memory", res, len(dc), len(mc))
		}
		str := func(cs []uint64) []string {
			var out []string
			for _, c := range cs {
				out = append(out, geo.CellString(c))
			}
			return out
		}
		equal("cells", ds, ms, str(dc), str(mc))
	}
	for _, level := range []string{"lsoa", "ward"} {
		dw, err := db.CellAreas(ctx, 7, level, from, to)
		if err != nil {
			t.Fatal(err)
		}
		mw, _ := mem.CellAreas(ctx, 7, level, from, to)
		if len(dw) != len(mw) || len(dw) == 0 {
			t.Fatalf("cell areas of %s: %d cells from the database, %d in memory", level, len(dw), len(mw))
		}
		for c, codes := range mw {
			got := slices.Sorted(slices.Values(dw[c]))
			if want := slices.Sorted(slices.Values(codes)); !slices.Equal(got, want) {
				t.Errorf("cell %s in %s areas: database %v, memory %v", geo.CellString(c), level, got, want)
			}
		}
	}
	dcity, _ := db.CityDays(ctx, from, to)
	mcity, _ := mem.CityDays(ctx, from, to)
	equal("city", dcity, mcity, []string{"city"}, []string{"city"})
	dl, _ := db.LocatedIncidents(ctx, from, to)
	ml, _ := mem.LocatedIncidents(ctx, from, to)
	if len(dl) != len(ml) || len(dl) == 0 {
		t.Errorf("located incidents: %d from the database, %d in memory", len(dl), len(ml))
	}
}

// TestEngineRunsMergeIntoAlerts runs the engine on consecutive days and checks
// that an ongoing finding updates one alert, drafts are made once, statuses move
// as allowed, and hotspots and near repeats are stored.
func TestEngineRunsMergeIntoAlerts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 6000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})
	if _, err := p.ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	o := tension.DefaultEngineOptions()
	o.Strands = geo.DefaultStrands
	o.Scan.Replicates, o.NearRepeat.Replicates = 99, 49
	rules, err := tension.ParseRules(tension.DefaultRules, tension.DefaultScale)
	if err != nil {
		t.Fatal(err)
	}
	gap := 14 * 24 * time.Hour
	run := func(asOf time.Time) (int64, *tension.Report, []tension.Change) {
		id, finish, ok, err := db.StartEngineRun(ctx, asOf, "test", nil)
		if err != nil || !ok {
			t.Fatalf("start: %v %v", ok, err)
		}
		rep, err := tension.Run(ctx, db, asOf, o)
		if err != nil {
			t.Fatal(err)
		}
		recent, err := db.RecentAlerts(ctx, asOf.Add(-gap), 0)
		if err != nil {
			t.Fatal(err)
		}
		changes := tension.Merge(recent, rep.Findings, asOf, gap, rules, tension.DefaultScale)
		if _, _, _, err := db.SaveEngineRun(ctx, id, rep, changes, "medium", tension.DefaultScale); err != nil {
			t.Fatal(err)
		}
		if err := finish(rep.Counts, nil); err != nil {
			t.Fatal(err)
		}
		return id, rep, changes
	}
	// A synthetic finding the engine will see twice, injected so the test does not
	// depend on what the detectors find in this town.
	asOf := testEnd.AddDate(0, 0, -10)
	id1, rep1, _ := run(asOf)
	if len(rep1.Hotspots) == 0 {
		t.Fatal("no hotspots stored")
	}
	_, _, _, hs, err := db.Hotspots(ctx, rep1.HotspotRes)
	if err != nil || len(hs) != len(rep1.Hotspots) {
		t.Fatalf("hotspots read back: %d, %v; want %d", len(hs), err, len(rep1.Hotspots))
	}
	if nr, runID, err := db.NearRepeat(ctx); err != nil || runID != id1 || nr.Table.Events == 0 {
		t.Errorf("near repeat read back: run %d, %v", runID, err)
	}
	var inTown uint64 // a cell with incidents, so inside the town's areas
	for _, h := range rep1.Hotspots {
		if h.Count > 0 {
			inTown = h.Cell
			break
		}
	}
	f := tension.Finding{Method: tension.MethodScan, Key: "cluster", Cells: []uint64{inTown}, Observed: 12, Expected: 2, P: 0.001,
		Recurrence: 1000, Score: 9, WindowFrom: asOf.AddDate(0, 0, -2), WindowTo: asOf}
	save := func(asOf time.Time, fs []tension.Finding) []tension.Change {
		id, finish, _, _ := db.StartEngineRun(ctx, asOf, "test", nil)
		recent, _ := db.RecentAlerts(ctx, asOf.Add(-gap), 0)
		changes := tension.Merge(recent, fs, asOf, gap, rules, tension.DefaultScale)
		if _, _, _, err := db.SaveEngineRun(ctx, id, &tension.Report{AsOf: asOf}, changes, "high", tension.DefaultScale); err != nil {
			t.Fatal(err)
		}
		finish(nil, nil)
		return changes
	}
	c1 := save(asOf.AddDate(0, 0, 1), []tension.Finding{f})
	c2 := save(asOf.AddDate(0, 0, 2), []tension.Finding{f})
	if !c1[0].New || c2[0].New {
		t.Fatalf("first sighting new %v, second new %v; want one alert updated", c1[0].New, c2[0].New)
	}
	alerts, err := db.Alerts(ctx, tension.AlertFilter{Method: []string{tension.MethodScan}})
	if err != nil {
		t.Fatal(err)
	}
	var a tension.StoredAlert
	for _, x := range alerts {
		if x.Observed == 12 && x.Expected == 2 {
			a = x
		}
	}
	if a.ID == 0 || a.TensionLevel != "critical" || a.AssessmentID == 0 || len(a.Areas) == 0 {
		t.Fatalf("the injected cluster's alert: %+v", a)
	}
	full, err := db.Alert(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	actions := []string{}
	for _, e := range full.Events {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{"opened", "assessment_drafted", "updated"}) {
		t.Errorf("history %v", actions)
	}
	if n := count(t, db, "SELECT count(*) FROM assessments WHERE alert_id = $1", a.ID); n != 1 {
		t.Errorf("%d drafts for one alert, want 1", n)
	}
	// Status moves.
	if _, err := db.MoveAlert(ctx, a.ID, tension.StatusDismissed, "known", "user:council"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MoveAlert(ctx, a.ID, tension.StatusAcknowledged, "", "user:council"); geo.ErrorCode(err) != geo.ECONFLICT {
		t.Errorf("acknowledging a dismissed alert: %v, want ECONFLICT", err)
	}
	if _, err := db.MoveAlert(ctx, 999999, tension.StatusAcknowledged, "", "user:council"); geo.ErrorCode(err) != geo.ENOTFOUND {
		t.Errorf("moving no alert: %v, want ENOTFOUND", err)
	}
	// Seen again at the same level: stays dismissed.
	save(asOf.AddDate(0, 0, 3), []tension.Finding{f})
	again, _ := db.Alert(ctx, a.ID)
	if again.Status != tension.StatusDismissed || !again.LastSeen.Equal(asOf.AddDate(0, 0, 3)) {
		t.Errorf("after another sighting: status %s, last seen %s", again.Status, again.LastSeen)
	}
	runs, err := db.EngineRuns(ctx, tension.RunFilter{Limit: 10})
	if err != nil || len(runs) < 4 || runs[len(runs)-1].Status != "done" {
		t.Errorf("runs: %d, %v", len(runs), err)
	}
}

// TestWidespreadAlertEvidence: a widespread alert keeps its time scale, baseline
// period, breadth, trigger event and uplift, and its evidence's periods without a
// baseline read back without an expected count; its level from breadth drafts an
// assessment naming the event.
func TestWidespreadAlertEvidence(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	rules, err := tension.ParseRules(tension.DefaultRules, tension.DefaultScale)
	if err != nil {
		t.Fatal(err)
	}
	asOf := testEnd
	ev := tension.TriggerEvent{Day: asOf.AddDate(0, 0, -10), Scope: "national", Description: "a referendum", Strands: []string{"race"}}
	if err := db.CreateTriggerEvent(ctx, &ev, "test"); err != nil {
		t.Fatal(err)
	}
	evID := ev.ID
	f := tension.Finding{Method: tension.MethodWidespread, Key: "widespread:ward:28d:race", Scale: tension.ScaleFourWeeks, AreaLevel: "ward",
		Areas: []string{"W1", "W2", "W3"}, Strands: []string{"race"}, WindowFrom: asOf.AddDate(0, 0, -27), WindowTo: asOf,
		Observed: 900, Expected: 650, P: 1e-9, Recurrence: math.NaN(), Score: 3, Breadth: 0.8,
		BaselineFrom: asOf.AddDate(-4, 0, -30), BaselineTo: asOf.AddDate(0, 0, -196), EventID: evID,
		Uplift: []tension.UpliftNote{{EventID: evID, Strands: []string{"race"}, WindowFrom: asOf.AddDate(0, 0, -10), WindowTo: asOf, Observed: 400, Expected: 280, Ratio: 1.43, P: 1e-6}},
		Series: []tension.Point{{Day: asOf.AddDate(0, 0, -28), Observed: 600, Expected: math.NaN(), Upper: math.NaN()}, {Day: asOf, Observed: 900, Expected: 650, Upper: 720}},
		Detail: "race reports rose together in 24 of 30 ward areas"}
	id, finish, _, err := db.StartEngineRun(ctx, asOf, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	changes := tension.Merge(nil, []tension.Finding{f}, asOf, 14*24*time.Hour, rules, tension.DefaultScale)
	if _, _, drafts, err := db.SaveEngineRun(ctx, id, &tension.Report{AsOf: asOf}, changes, "high", tension.DefaultScale); err != nil || drafts != 1 {
		t.Fatalf("saving: %d drafts, %v; want 1 (a widespread rise at high)", drafts, err)
	}
	finish(nil, nil)
	alerts, err := db.Alerts(ctx, tension.AlertFilter{Method: []string{tension.MethodWidespread}})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("widespread alerts: %d, %v", len(alerts), err)
	}
	a, err := db.Alert(ctx, alerts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Scale != f.Scale || !a.BaselineFrom.Equal(f.BaselineFrom) || !a.BaselineTo.Equal(f.BaselineTo) || a.Breadth != 0.8 || a.EventID != evID ||
		len(a.Uplift) != 1 || a.Uplift[0].Ratio != 1.43 || a.TensionLevel != "high" {
		t.Errorf("read back %+v", a.Alert)
	}
	if len(a.Series) != 2 || !math.IsNaN(a.Series[0].Expected) || a.Series[1].Expected != 650 {
		t.Errorf("evidence read back %+v, want the first period without an expected count", a.Series)
	}
	d, err := db.Assessment(ctx, a.AssessmentID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.EventIDs, []int64{evID}) {
		t.Errorf("the draft answers to events %v, want [%d]", d.EventIDs, evID)
	}
}

// TestEngineLock lets one run hold the engine at a time.
func TestEngineLock(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	_, finish, ok, err := db.StartEngineRun(ctx, testEnd, "test", nil)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, _, ok, err := db.StartEngineRun(ctx, testEnd, "test", nil); err != nil || ok {
		t.Errorf("a second run started while the first held the engine (ok %v, %v)", ok, err)
	}
	finish(nil, nil)
	_, finish, ok, _ = db.StartEngineRun(ctx, testEnd, "test", nil)
	if !ok {
		t.Error("no run could start after the first finished")
	}
	finish(nil, nil)
}
