package postgis_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

const outcomesHeader = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type"

// outcomesFile is a police.uk outcomes file of (Crime ID, month, outcome type) rows.
func outcomesFile(rows ...[3]string) string {
	lines := []string{outcomesHeader}
	for _, r := range rows {
		lines = append(lines, r[0]+","+r[1]+",Thames Valley Police,Thames Valley Police,,,No location,,,"+r[2])
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

// loadOutcomes loads an outcomes file as the command line does: one recorded run,
// here in batches of two so that every test crosses batches.
func loadOutcomes(tb testing.TB, db *postgis.DB, content string) (geo.OutcomeSummary, int64) {
	tb.Helper()
	sum, run, err := tryLoadOutcomes(db, content, tb.Name())
	if err != nil {
		tb.Fatal(err)
	}
	return sum, run
}

func tryLoadOutcomes(db *postgis.DB, content, actor string) (geo.OutcomeSummary, int64, error) {
	ctx := context.Background()
	r, err := geo.NewOutcomeReader(strings.NewReader(content), geo.OutcomeReaderOptions{Now: func() time.Time { return testEnd }})
	if err != nil {
		return geo.OutcomeSummary{}, 0, err
	}
	run, err := db.StartRun(ctx, "test", actor, []string{"outcomes.csv"})
	if err != nil {
		return geo.OutcomeSummary{}, 0, err
	}
	sum, err := geo.IngestOutcomes(ctx, r, db.NewOutcomeWriter(run), geo.OutcomeIngestOptions{BatchSize: 2})
	if ferr := db.FinishOutcomeRun(ctx, run, sum, err); ferr != nil && err == nil {
		err = ferr
	}
	return sum, run, err
}

// loadIncidents stores incidents given in the project's CSV layout.
func loadIncidents(tb testing.TB, db *postgis.DB, lines ...string) {
	tb.Helper()
	p := newPipeline(tb, db, geo.Defaults{})
	content := "source,source_ref,kind,strands,occurred,lat,lon\n" + strings.Join(lines, "\n") + "\n"
	r, err := geo.NewReader(strings.NewReader(content), geo.ReaderOptions{Format: geo.FormatCSV})
	if err != nil {
		tb.Fatal(err)
	}
	sum, err := p.ingest(context.Background(), tb, r, 0)
	if err != nil || sum.Rejected != 0 || sum.Inserted != len(lines) {
		tb.Fatalf("loading incidents: %v, %+v; want %d inserted", err, sum, len(lines))
	}
}

// latest returns the latest outcome of a crime as the view latest_outcomes gives it.
func latest(tb testing.TB, db *postgis.DB, crime string) (month time.Time, outcome string) {
	tb.Helper()
	err := db.Pool.QueryRow(context.Background(), `SELECT month, outcome FROM latest_outcomes WHERE crime_ref = $1`, crime).Scan(&month, &outcome)
	if err != nil {
		tb.Fatalf("latest outcome of %s: %v", crime, err)
	}
	return month, outcome
}

func TestOutcomesRerunStoresNothing(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	file := outcomesFile(
		[3]string{"a1", "2026-01", "Suspect charged"},
		[3]string{"a2", "2026-01", "Unable to prosecute suspect"},
		[3]string{"a1", "2026-01", "Suspect charged"}, // repeated in the file
		[3]string{"a3", "2026-02", "Local resolution"},
		[3]string{"", "2026-02", "Local resolution"},
		[3]string{"a4", "2026-13", "Local resolution"},
		[3]string{"a5", "2026-03", "Sent to the moon"},
	)
	first, run := loadOutcomes(t, db, file)
	if first.Read != 7 || first.Inserted != 4 || first.Duplicates != 1 || first.Rejected != 2 ||
		first.RejectedBy["Crime ID"] != 1 || first.RejectedBy["Month"] != 1 || first.Batches != 3 {
		t.Errorf("first load: %+v; want 7 read, 4 inserted, 1 duplicate, 2 rejected (Crime ID and Month) in 3 batches", first)
	}
	if first.Positive != 2 || first.Unknown != 1 || first.UnknownTypes["Sent to the moon"] != 1 {
		t.Errorf("first load: %+v; want 2 positive and one unknown type", first)
	}
	if first.Matched != 0 || first.NotYetMatched != 5 || !slices.Equal(first.Unmatched, []string{"a1", "a2", "a3", "a5"}) {
		t.Errorf("first load: matched %d, not yet %d %v; want 0 and 5, a1 a2 a3 a5", first.Matched, first.NotYetMatched, first.Unmatched)
	}
	if n := count(t, db, `SELECT count(*) FROM outcomes WHERE run_id = $1`, run); n != 4 {
		t.Errorf("got %d outcomes of the run, want 4", n)
	}
	if n := count(t, db, `SELECT count(*) FROM outcomes WHERE crime_ref = 'a5' AND NOT positive`); n != 1 {
		t.Error("the unknown outcome type was not stored as not positive")
	}
	var status string
	var summary []byte
	if err := db.Pool.QueryRow(ctx, `SELECT status, summary FROM ingest_runs WHERE id = $1`, run).Scan(&status, &summary); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Format   string `json:"format"`
		Inserted int    `json:"inserted"`
		Unmatch  int    `json:"not_yet_matched"`
	}
	if err := json.Unmarshal(summary, &s); err != nil || status != "done" || s.Format != geo.FormatPoliceUKOutcomes || s.Inserted != 4 || s.Unmatch != 5 {
		t.Errorf("run recorded as %s %s; want done with the outcome summary", status, summary)
	}

	again, run2 := loadOutcomes(t, db, file)
	if again.Inserted != 0 || again.Duplicates != 5 || again.Rejected != 2 || again.NotYetMatched != 5 {
		t.Errorf("second load: %+v; want nothing inserted, 5 duplicates", again)
	}
	if n := count(t, db, `SELECT count(*) FROM outcomes`); n != 4 {
		t.Errorf("got %d outcomes after the rerun, want 4", n)
	}
	if n := count(t, db, `SELECT count(*) FROM outcomes WHERE run_id = $1`, run2); n != 0 {
		t.Errorf("the rerun owns %d outcomes, want none", n)
	}
}

func TestLatestOutcomeWinsAndHistoryIsKept(t *testing.T) {
	db := openDB(t)
	// The months of a crime's outcomes arrive out of order, over three loads.
	loadOutcomes(t, db, outcomesFile(
		[3]string{"x", "2026-01", "Under investigation"},
		[3]string{"x", "2026-03", "Suspect charged"},
		[3]string{"y", "2026-02", "Offender given a caution"},
		[3]string{"y", "2026-02", "Local resolution"}, // the same month: the later row wins
	))
	loadOutcomes(t, db, outcomesFile(
		[3]string{"x", "2026-02", "Unable to prosecute suspect"}, // older than the latest: history only
		[3]string{"z", "2026-04", "Court result unavailable"},
	))
	if n := count(t, db, `SELECT count(*) FROM outcomes WHERE crime_ref = 'x'`); n != 3 {
		t.Errorf("crime x keeps %d outcomes, want its 3 months", n)
	}
	if m, o := latest(t, db, "x"); o != "Suspect charged" || !m.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("x: latest %s %s, want Suspect charged of 2026-03", m, o)
	}
	if _, o := latest(t, db, "y"); o != "Local resolution" {
		t.Errorf("y: latest %s, want the later row of the month, Local resolution", o)
	}
	// A later load of the same month wins the tie.
	loadOutcomes(t, db, outcomesFile([3]string{"y", "2026-02", "Offender given a caution"}, [3]string{"z", "2026-04", "Awaiting court outcome"}))
	if _, o := latest(t, db, "y"); o != "Local resolution" {
		t.Errorf("y: latest %s after reloading a stored row, want Local resolution still (nothing new was stored)", o)
	}
	if _, o := latest(t, db, "z"); o != "Awaiting court outcome" {
		t.Errorf("z: latest %s, want the later load of 2026-04, Awaiting court outcome", o)
	}
	if n := count(t, db, `SELECT count(*) FROM outcomes`); n != 7 {
		t.Errorf("got %d outcomes, want 7", n)
	}
}

func TestOutcomesOfUnknownCrimesAreKeptAndMatchLater(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	loadIncidents(t, db, "police,k1,crime,race,2026-01-10,52.04,-0.76")
	file := outcomesFile(
		[3]string{"k1", "2026-02", "Suspect charged"},
		[3]string{"k2", "2026-02", "Offender fined"},
		[3]string{"k2", "2026-03", "Offender sent to prison"},
		[3]string{"k3", "2026-03", "Local resolution"},
	)
	sum, _ := loadOutcomes(t, db, file)
	if sum.Inserted != 4 || sum.Matched != 1 || sum.NotYetMatched != 3 || !slices.Equal(sum.Unmatched, []string{"k2", "k3"}) {
		t.Errorf("first load: %+v; want 4 stored, 1 matched, 3 not yet (k2 twice, k3)", sum)
	}
	got, err := db.CrimeOutcomes(ctx, geo.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Crimes != 1 || got.WithOutcome != 1 || got.Positive != 1 {
		t.Errorf("before k2 arrives: %+v; want 1 crime with a positive outcome", got)
	}

	// k2 arrives, from police; k3 arrives from another source, which police.uk
	// outcomes do not belong to.
	loadIncidents(t, db, "police,k2,crime,race,2026-01-20,52.04,-0.76", "council,k3,crime,race,2026-01-21,52.04,-0.76")
	got, err = db.CrimeOutcomes(ctx, geo.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := geo.OutcomeCounts{Crimes: 2, WithOutcome: 2, Positive: 2, ByOutcome: map[string]int{"Suspect charged": 1, "Offender sent to prison": 1}}
	if !equalCounts(got, want) {
		t.Errorf("after k2 arrived: %+v, want %+v", got, want)
	}
	again, _ := loadOutcomes(t, db, file)
	if again.Inserted != 0 || again.Matched != 3 || again.NotYetMatched != 1 || !slices.Equal(again.Unmatched, []string{"k3"}) {
		t.Errorf("reloading: %+v; want nothing stored, 3 matched, k3 not yet", again)
	}
}

func TestConcurrentOutcomeLoads(t *testing.T) {
	db := openDB(t)
	var rows [][3]string
	for i := range 50 {
		rows = append(rows, [3]string{"c" + string(rune('a'+i%26)) + string(rune('a'+i/26)), "2026-0" + string(rune('1'+i%6)), geo.OutcomeTypes[i%len(geo.OutcomeTypes)].Name})
	}
	forward := outcomesFile(rows...)
	slices.Reverse(rows)
	backward := outcomesFile(rows...)
	var wg sync.WaitGroup
	sums := make([]geo.OutcomeSummary, 4)
	errs := make([]error, 4)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			file := forward
			if i%2 == 1 {
				file = backward
			}
			sums[i], _, errs[i] = tryLoadOutcomes(db, file, "concurrent")
		}()
	}
	wg.Wait()
	inserted := 0
	for i, s := range sums {
		if errs[i] != nil {
			t.Errorf("load %d: %v", i, errs[i])
		}
		inserted += s.Inserted
	}
	if n := count(t, db, `SELECT count(*) FROM outcomes`); n != 50 || inserted != 50 {
		t.Errorf("four concurrent loads stored %d outcomes and said %d, want 50", n, inserted)
	}
}

func equalCounts(a, b geo.OutcomeCounts) bool {
	return a.Crimes == b.Crimes && a.WithOutcome == b.WithOutcome && a.Positive == b.Positive && maps.Equal(a.ByOutcome, b.ByOutcome)
}

func TestCrimeOutcomes(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	loadIncidents(t, db,
		"police,P1,crime,race,2025-01-10,52.04,-0.76",
		"police,P2,crime,race;religion,2025-02-05,52.04,-0.76",
		"police,P3,crime,religion,2025-03-20,52.04,-0.76",
		"police,P4,crime,sexual_orientation,2025-05-01,52.04,-0.76",
		"police,P5,incident,race,2025-01-15,52.04,-0.76", // not a crime
		"council,P1,crime,race,2025-01-20,52.04,-0.76",   // another source's reference
		"council,C1,crime,race,2025-01-20,52.04,-0.76",
		"police,P7,crime,race,2025-04-30,,",
		"police,P8,crime,disability,2024-12-31,52.04,-0.76",
	)
	loadOutcomes(t, db, outcomesFile(
		[3]string{"P1", "2025-01", "Under investigation"},
		[3]string{"P1", "2025-03", "Suspect charged"},
		[3]string{"P2", "2025-02", "Unable to prosecute suspect"},
		[3]string{"P4", "2025-05", "Offender given a caution"},
		[3]string{"P5", "2025-02", "Suspect charged"},
		[3]string{"C1", "2025-02", "Suspect charged"},
		[3]string{"P7", "2025-06", "Sent to the moon"},
		[3]string{"P8", "2025-02", "Offender fined"},
		[3]string{"X404", "2025-02", "Suspect charged"},
	))
	// The same month again, later: P4's latest is the local resolution.
	loadOutcomes(t, db, outcomesFile([3]string{"P4", "2025-05", "Local resolution"}))

	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	all := geo.OutcomeCounts{Crimes: 6, WithOutcome: 5, Positive: 2, ByOutcome: map[string]int{
		"Suspect charged": 1, "Unable to prosecute suspect": 1, "Local resolution": 1, "Sent to the moon": 1, "Offender fined": 1}}
	tests := []struct {
		name string
		f    geo.Filter
		want geo.OutcomeCounts
	}{
		{"everything", geo.Filter{}, all},
		{"sources and kinds are ignored", geo.Filter{Sources: []string{"council"}, Kinds: []geo.Kind{geo.KindIncident}}, all},
		{"first quarter of 2025", geo.Filter{From: day(2025, 1, 1), To: day(2025, 3, 31)},
			geo.OutcomeCounts{Crimes: 3, WithOutcome: 2, Positive: 1, ByOutcome: map[string]int{"Suspect charged": 1, "Unable to prosecute suspect": 1}}},
		{"from a day, both ends included", geo.Filter{From: day(2025, 4, 30)},
			geo.OutcomeCounts{Crimes: 2, WithOutcome: 2, ByOutcome: map[string]int{"Local resolution": 1, "Sent to the moon": 1}}},
		{"to a day", geo.Filter{To: day(2024, 12, 31)},
			geo.OutcomeCounts{Crimes: 1, WithOutcome: 1, Positive: 1, ByOutcome: map[string]int{"Offender fined": 1}}},
		{"religion", geo.Filter{Strands: []string{"religion"}},
			geo.OutcomeCounts{Crimes: 2, WithOutcome: 1, ByOutcome: map[string]int{"Unable to prosecute suspect": 1}}},
		{"race or disability", geo.Filter{Strands: []string{"race", "disability"}},
			geo.OutcomeCounts{Crimes: 4, WithOutcome: 4, Positive: 2, ByOutcome: map[string]int{
				"Suspect charged": 1, "Unable to prosecute suspect": 1, "Sent to the moon": 1, "Offender fined": 1}}},
		{"a period without crimes", geo.Filter{From: day(2023, 1, 1), To: day(2023, 12, 31)}, geo.OutcomeCounts{ByOutcome: map[string]int{}}},
		{"a strand without crimes", geo.Filter{Strands: []string{"transgender"}}, geo.OutcomeCounts{ByOutcome: map[string]int{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.CrimeOutcomes(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got.ByOutcome == nil {
				t.Error("got a nil ByOutcome, want an empty map at least")
			}
			if !equalCounts(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}

	// The latest outcome is the view's, crime by crime.
	rows, err := db.Pool.Query(ctx, `SELECT l.outcome, count(*) FROM incidents i
		JOIN sources s ON s.id = i.source_id AND s.name = 'police'
		JOIN latest_outcomes l ON l.crime_ref = i.source_ref
		WHERE i.kind = 0 GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	byView := map[string]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			t.Fatal(err)
		}
		byView[o] = n
	}
	if !maps.Equal(byView, all.ByOutcome) {
		t.Errorf("latest_outcomes gives %v, want %v", byView, all.ByOutcome)
	}

	_, err = db.CrimeOutcomes(ctx, geo.Filter{Strands: []string{"nonsense"}})
	if geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("an unknown strand: got %v, want an invalid error", err)
	}
}

func TestCrimeOutcomesBeforeAnyIncident(t *testing.T) {
	db := openDB(t)
	loadOutcomes(t, db, outcomesFile([3]string{"a", "2026-01", "Suspect charged"}))
	got, err := db.CrimeOutcomes(context.Background(), geo.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalCounts(got, geo.OutcomeCounts{ByOutcome: map[string]int{}}) || got.ByOutcome == nil {
		t.Errorf("got %+v, want zeros", got)
	}
}
