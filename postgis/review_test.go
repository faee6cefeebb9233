package postgis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

// The review fixture: three small square LSOAs side by side (Bravo's population is
// a quarter of Alpha's, Charlie's is unknown), a ward over the first two, and
// reports chosen so that every figure can be counted by hand. Centres of the
// squares, and a place inside no area:
var (
	inAlpha   = [2]string{"52.005", "-0.795"}
	inBravo   = [2]string{"52.005", "-0.775"}
	inCharlie = [2]string{"52.005", "-0.755"}
	inNoArea  = [2]string{"52.05", "-0.70"}
)

func square(lon, lat, size float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}}
}

// reviewReports are the fixture's reports. The comments give each one's place in
// the hand counts: Q1 is 2026-01-01 to 2026-03-31, the review period of most cases;
// Q1 2025 is its year-earlier period.
var reviewReports = []struct {
	source, ref, kind, strands, day string
	at                              [2]string // lat, lon; empty: online
	victim, offender                string
}{
	// Q1 2026: 10 reports.
	{"police", "P1", "crime", "race", "2026-01-05", inAlpha, "V1", "O1"},
	{"police", "P2", "crime", "race;religion", "2026-01-10", inAlpha, "V1", ""},
	{"police", "P3", "crime", "religion", "2026-02-03", inBravo, "V2", "O1"},
	{"police", "P4", "incident", "disability", "2026-02-14", inCharlie, "", "O2"},
	{"council", "C1", "incident", "race", "2026-02-20", inAlpha, "V1", ""}, // the council's V1 is another pseudonym
	{"council", "C2", "crime", "sexual_orientation;transgender", "2026-03-01", inBravo, "", ""},
	{"third_party", "T1", "incident", "race", "2026-03-15", [2]string{}, "V3", ""},
	{"third_party", "T2", "incident", "religion", "2026-03-31", inCharlie, "V3", "O2"},
	{"anonymous", "A1", "incident", "race", "2026-01-01", inNoArea, "", ""},
	{"police", "P5", "crime", "race", "2026-03-20", inAlpha, "V4", "O3"},
	// Either side of Q1 2026.
	{"police", "P6", "crime", "race", "2025-12-31", inAlpha, "V1", "O1"},
	{"police", "P7", "crime", "race", "2026-04-01", inAlpha, "V1", "O1"},
	// Q1 2025: 4 reports.
	{"police", "P8", "crime", "race", "2025-01-15", inAlpha, "", ""},
	{"police", "P9", "crime", "religion", "2025-02-15", inAlpha, "", ""},
	{"council", "C3", "incident", "race", "2025-03-31", inBravo, "", ""},
	{"police", "P10", "crime", "disability", "2025-03-10", inAlpha, "", ""},
	// Either side of the start of the 24 months ending March 2026.
	{"police", "P11", "crime", "race", "2024-03-31", inAlpha, "", ""},
	{"police", "P12", "crime", "race", "2024-04-01", inAlpha, "", ""},
}

// reviewFixture loads the fixture into a database of its own.
func reviewFixture(t *testing.T) *postgis.DB {
	t.Helper()
	ctx := context.Background()
	db := openDB(t)
	_, err := db.ImportAreas(ctx, []geo.Area{
		{Level: "lsoa", Code: "E01000001", Name: "Alpha", Geometry: square(-0.80, 52.00, 0.01)},
		{Level: "lsoa", Code: "E01000002", Name: "Bravo", Geometry: square(-0.78, 52.00, 0.01)},
		{Level: "lsoa", Code: "E01000003", Name: "Charlie", Geometry: square(-0.76, 52.00, 0.01)},
		{Level: "ward", Code: "E05000001", Name: "Whiskey", Geometry: orb.MultiPolygon{{{{-0.80, 52.00}, {-0.77, 52.00}, {-0.77, 52.01}, {-0.80, 52.01}, {-0.80, 52.00}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetPopulation(ctx, map[string]int{"E01000001": 2000, "E01000002": 500, "E05000001": 2500}); err != nil {
		t.Fatal(err)
	}

	var csv strings.Builder
	csv.WriteString("source,source_ref,kind,strands,occurred,lat,lon,precision,victim_ref,offender_ref\n")
	for _, r := range reviewReports {
		precision := "exact"
		if r.at[0] == "" {
			precision = "online"
		}
		csv.WriteString(strings.Join([]string{r.source, r.ref, r.kind, r.strands, r.day, r.at[0], r.at[1], precision, r.victim, r.offender}, ",") + "\n")
	}
	reader, err := geo.NewReader(strings.NewReader(csv.String()), geo.ReaderOptions{Format: geo.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, db, geo.Defaults{})
	sum, err := p.ingest(ctx, t, reader, 100)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Inserted != len(reviewReports) {
		t.Fatalf("fixture: %s; want all %d inserted", sum, len(reviewReports))
	}
	if n := count(t, db, "SELECT count(*) FROM incidents WHERE areas = '{}' AND cell IS NOT NULL"); n != 1 {
		t.Fatalf("fixture: %d located reports outside every area, want 1 (A1)", n)
	}

	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Alerts, by first sighting: five in Q1 2026 (a6 dismissed since), one either side.
	var run int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO engine_runs (as_of, trigger) VALUES ('2026-04-01', 'test') RETURNING id`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	alerts := map[string]int64{}
	for _, a := range []struct{ name, method, level, firstSeen, status string }{
		{"a1", "farrington", "high", "2026-01-10", "assessment_opened"},
		{"a2", "ears", "medium", "2026-02-01", "assessment_opened"},
		{"a3", "scan", "high", "2026-03-31", "assessment_opened"},
		{"a4", "farrington", "critical", "2026-04-01", "new"},
		{"a5", "ears", "low", "2025-12-31", "assessment_opened"},
		{"a6", "farrington", "medium", "2026-03-05", "dismissed"},
		{"a7", "uplift", "low", "2026-01-01", "new"},
	} {
		var id int64
		err := db.Pool.QueryRow(ctx, `INSERT INTO alerts (method, key, status, tension_level, first_run_id, last_run_id,
				first_seen, last_seen, window_from, window_to, observed, expected)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $6, $6, $6, 9, 2) RETURNING id`,
			a.method, "test:"+a.name, a.status, a.level, run, a.firstSeen).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		alerts[a.name] = id
	}
	// Impact assessments. Times are UTC; the review counts days in Europe/London,
	// where British Summer Time starts on 29 March 2026.
	alertID := func(name string) any {
		if name == "" {
			return nil
		}
		return alerts[name]
	}
	ts := func(s string) any {
		if s == "" {
			return nil
		}
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	day := func(s string) any {
		if s == "" {
			return nil
		}
		return mustDay(t, s)
	}
	assessments := map[string]int64{}
	for _, s := range []struct{ name, alert, status, opened, closed, review string }{
		// opened 2 days after a1; closed in Q1
		{"s1", "a1", "closed", "2026-01-12T09:00:00Z", "2026-02-20T10:00:00Z", ""},
		// opened the day a2 was seen; its review date has passed
		{"s2", "a2", "open", "2026-02-01T15:00:00Z", "", "2026-03-01"},
		// opened at 00:30 BST on 1 April: after Q1 in London, within it in UTC; an action overdue
		{"s3", "a3", "under_review", "2026-03-31T23:30:00Z", "", "2026-05-01"},
		// opened 5 days after a5; review due today; its actions are done or due today
		{"s4", "a5", "under_review", "2026-01-05T11:00:00Z", "", "2026-04-10"},
		// no alert; two actions overdue
		{"s5", "", "open", "2026-03-10T12:00:00Z", "", ""},
		// a draft: never opened, its overdue action does not count
		{"s6", "a6", "draft", "", "", ""},
		// closed at 23:30 BST on 31 March, in Q1; its undone action does not count
		{"s7", "", "closed", "2025-11-01T12:00:00Z", "2026-03-31T22:30:00Z", "2026-01-01"},
		// closed before Q1
		{"s8", "", "closed", "2025-10-01T12:00:00Z", "2025-12-31T23:59:00Z", ""},
		// closed in Q1 and reopened since
		{"s9", "", "open", "2025-09-01T12:00:00Z", "2026-02-10T12:00:00Z", ""},
	} {
		var id int64
		err := db.Pool.QueryRow(ctx, `INSERT INTO assessments (alert_id, status, title, created_by, opened_at, closed_at, review_date)
			VALUES ($1, $2, $3, 'test', $4, $5, $6) RETURNING id`,
			alertID(s.alert), s.status, "Assessment "+s.name, ts(s.opened), ts(s.closed), day(s.review)).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		assessments[s.name] = id
	}
	for _, a := range []struct {
		assessment, due string
		done            bool
	}{
		{"s2", "2026-05-01", false}, // not yet due
		{"s3", "2026-04-01", false}, // overdue
		{"s4", "2026-03-01", true},  // done
		{"s4", "2026-04-10", false}, // due today: not overdue
		{"s5", "2026-03-20", false}, // overdue
		{"s5", "2026-03-25", false}, // overdue
		{"s6", "2026-03-01", false}, // a draft's
		{"s7", "2026-02-01", false}, // a closed assessment's
	} {
		exec(`INSERT INTO assessment_actions (assessment_id, description, owner, due, done, created_by)
			VALUES ($1, 'an action', 'a partner', $2, $3, 'test')`, assessments[a.assessment], mustDay(t, a.due), a.done)
	}
	// Outcomes: the latest month wins, the later load within a month.
	for _, o := range []struct {
		ref, month, outcome string
		positive            bool
	}{
		{"P1", "2026-02-01", "Investigation complete; no suspect identified", false},
		{"P1", "2026-04-01", "Offender charged", true},
		{"P2", "2026-03-01", "Offender charged", true},
		{"P2", "2026-05-01", "Unable to prosecute suspect", false},
		{"P5", "2026-04-01", "Local resolution", false},
		{"P5", "2026-04-01", "Further investigation not in the public interest", false},
		{"P6", "2026-01-01", "Offender charged", true},  // a crime before Q1
		{"P7", "2026-04-01", "Offender charged", true},  // a crime after Q1
		{"C2", "2026-03-01", "Offender charged", true},  // a council reference: not a police crime
		{"X99", "2026-03-01", "Offender charged", true}, // a crime not stored
	} {
		exec(`INSERT INTO outcomes (crime_ref, month, outcome, positive) VALUES ($1, $2, $3, $4)`, o.ref, mustDay(t, o.month), o.outcome, o.positive)
	}
	return db
}

func mustDay(tb testing.TB, s string) time.Time {
	tb.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// review runs a review of the fixture, as of 10 April 2026 in London unless the
// query says otherwise.
func review(t *testing.T, db *postgis.DB, from, to string, set ...func(*geo.ReviewQuery)) *geo.Review {
	t.Helper()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	q := geo.ReviewQuery{From: mustDay(t, from), To: mustDay(t, to), Today: mustDay(t, "2026-04-10"), Location: london}
	for _, f := range set {
		f(&q)
	}
	r, err := db.Review(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func strandCounts(race, religion, sexualOrientation, disability, transgender, sex, alternative int) map[string]int {
	return map[string]int{"race": race, "religion": religion, "sexual_orientation": sexualOrientation, "disability": disability,
		"transgender": transgender, "sex": sex, "alternative_subculture": alternative}
}

func sourceCounts(police, council, thirdParty, anonymous, other int) map[string]int {
	return map[string]int{"police": police, "council": council, "third_party": thirdParty, "anonymous": anonymous, "other": other}
}

func checkPeriod(t *testing.T, what string, got, want geo.PeriodCounts) {
	t.Helper()
	if !got.From.Equal(want.From) || !got.To.Equal(want.To) || got.Reports != want.Reports || got.Crimes != want.Crimes ||
		got.Incidents != want.Incidents || !maps.Equal(got.ByStrand, want.ByStrand) || !maps.Equal(got.BySource, want.BySource) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// TestReviewFigures checks every figure of a quarter's review against counts made
// by hand from the fixture.
func TestReviewFigures(t *testing.T) {
	db := reviewFixture(t)
	r := review(t, db, "2026-01-01", "2026-03-31")

	if r.Query.Level != "lsoa" || !r.Query.From.Equal(mustDay(t, "2026-01-01")) || !r.Query.Today.Equal(mustDay(t, "2026-04-10")) {
		t.Errorf("query answered: %+v; want level lsoa (3 areas against the ward's 1)", r.Query)
	}
	if !slices.Equal(r.Strands, geo.DefaultStrands) || !slices.Equal(r.Sources, geo.DefaultSources) {
		t.Errorf("strands %v, sources %v; want the configured ones", r.Strands, r.Sources)
	}

	// Totals, strands and sources. P2 (race and religion) and C2 (sexual orientation
	// and transgender) count under both their strands and once in the totals.
	checkPeriod(t, "Q1 2026", r.Period, geo.PeriodCounts{From: mustDay(t, "2026-01-01"), To: mustDay(t, "2026-03-31"),
		Reports: 10, Crimes: 5, Incidents: 5,
		ByStrand: strandCounts(6, 3, 1, 1, 1, 0, 0), BySource: sourceCounts(5, 2, 2, 1, 0)})
	checkPeriod(t, "Q1 2025", r.YearEarlier, geo.PeriodCounts{From: mustDay(t, "2025-01-01"), To: mustDay(t, "2025-03-31"),
		Reports: 4, Crimes: 3, Incidents: 1,
		ByStrand: strandCounts(2, 1, 0, 1, 0, 0, 0), BySource: sourceCounts(3, 1, 0, 0, 0)})

	// Percentage changes: 10 against 4, race 6 against 2, disability 1 against 1,
	// sexual orientation 1 against none.
	for _, c := range []struct {
		what      string
		cur, prev int
		want      float64
		ok        bool
	}{
		{"reports", r.Period.Reports, r.YearEarlier.Reports, 150, true},
		{"race", r.Period.ByStrand["race"], r.YearEarlier.ByStrand["race"], 200, true},
		{"disability", r.Period.ByStrand["disability"], r.YearEarlier.ByStrand["disability"], 0, true},
		{"sexual orientation", r.Period.ByStrand["sexual_orientation"], r.YearEarlier.ByStrand["sexual_orientation"], 0, false},
		{"crimes", r.Period.Crimes, r.YearEarlier.Crimes, 100.0 * 2 / 3, true},
	} {
		if got, ok := geo.PctChange(c.cur, c.prev); ok != c.ok || (ok && !near(got, c.want)) {
			t.Errorf("%% change of %s (%d against %d): got %v %v, want %v %v", c.what, c.cur, c.prev, got, ok, c.want, c.ok)
		}
	}

	// Areas: A1 lies in none, T1 is online.
	wantAreas := []geo.ReviewArea{
		{Code: "E01000001", Name: "Alpha", Population: 2000, Count: 4, Previous: 3},
		{Code: "E01000002", Name: "Bravo", Population: 500, Count: 2, Previous: 1},
		{Code: "E01000003", Name: "Charlie", Population: 0, Count: 2, Previous: 0},
	}
	if !slices.Equal(r.Areas, wantAreas) {
		t.Errorf("areas:\n got %+v\nwant %+v", r.Areas, wantAreas)
	}
	for i, want := range []struct {
		rate float64
		ok   bool
	}{{2.0, true}, {4.0, true}, {0, false}} {
		if i >= len(r.Areas) {
			break
		}
		if got, ok := r.Areas[i].Rate(); ok != want.ok || got != want.rate {
			t.Errorf("rate of %s: got %v %v, want %v %v", r.Areas[i].Code, got, ok, want.rate, want.ok)
		}
	}
	if got := codes(geo.RankByRate(r.Areas, 0)); !slices.Equal(got, []string{"E01000002", "E01000001"}) {
		t.Errorf("by rate: %v; want Bravo (4.0) then Alpha (2.0), Charlie left out", got)
	}
	if got := codes(geo.RankByRise(r.Areas, 2)); !slices.Equal(got, []string{"E01000003", "E01000001"}) {
		t.Errorf("by rise: %v; want Charlie (+2) then Alpha (+1, before Bravo's +1 by code)", got)
	}

	// Repeats, by the repeat rule: in the twelve months ending on the period's
	// last day (1 April 2025 to 31 March 2026) and within a source. Police V1 (P1,
	// P2 and P6, which is before the period but in the window) and third party V3
	// (T1, T2) recur; the council's V1 is another pseudonym; P7 is after the
	// window. Police O1 (P1, P3, P6) recurs; police and third-party O2 differ.
	wantRepeats := geo.ReviewRepeats{
		Victims:   geo.RepeatCounts{WithKey: 8, People: 5, RepeatPeople: 2, RepeatReports: 5},
		Offenders: geo.RepeatCounts{WithKey: 6, People: 4, RepeatPeople: 1, RepeatReports: 3},
	}
	if r.Repeats != wantRepeats {
		t.Errorf("repeats:\n got %+v\nwant %+v", r.Repeats, wantRepeats)
	}

	// Months: April 2024 to March 2026.
	wantMonths := map[string][24]int{
		"":                       {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 4},
		"race":                   {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 1, 2},
		"religion":               {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1},
		"disability":             {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
		"sexual_orientation":     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		"transgender":            {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		"sex":                    {},
		"alternative_subculture": {},
	}
	checkMonths(t, r.Months, "2024-04-01", wantMonths)

	// Alerts first seen in Q1, a dismissed one included.
	if r.Alerts.Raised != 5 || !maps.Equal(r.Alerts.ByMethod, map[string]int{"farrington": 2, "ears": 1, "scan": 1, "uplift": 1}) ||
		!maps.Equal(r.Alerts.ByLevel, map[string]int{"high": 2, "medium": 2, "low": 1}) {
		t.Errorf("alerts: %+v", r.Alerts)
	}

	// Assessments: opened s1, s2, s4, s5 (s3 on 1 April in London); closed s1, s7,
	// s9; open now s2, s3, s4, s5, s9; overdue s2 (review date), s3 and s5
	// (actions: one and two); days to open 2, 0, 5 (s5 has no alert).
	checkAssessments(t, r.Assessments, geo.ReviewAssessments{Opened: 4, Closed: 3, Open: 5, Overdue: 3, OverdueActions: 3,
		DaysToOpen: ptr(2.0), DaysToOpenOver: 3})

	// Outcomes of police crimes P1, P2, P3 and P5: P1's latest is a charge, P2's
	// latest is not, P3 has none, P5's later load in the same month wins.
	wantOutcomes := geo.OutcomeCounts{Crimes: 4, WithOutcome: 3, Positive: 1, ByOutcome: map[string]int{
		"Offender charged": 1, "Unable to prosecute suspect": 1, "Further investigation not in the public interest": 1}}
	if o := r.Outcomes; o.Crimes != wantOutcomes.Crimes || o.WithOutcome != wantOutcomes.WithOutcome ||
		o.Positive != wantOutcomes.Positive || !maps.Equal(o.ByOutcome, wantOutcomes.ByOutcome) {
		t.Errorf("outcomes:\n got %+v\nwant %+v", o, wantOutcomes)
	}
	oc, err := db.CrimeOutcomes(context.Background(), geo.Filter{From: r.Query.From, To: r.Query.To})
	if err != nil {
		t.Fatal(err)
	}
	if oc.Crimes != wantOutcomes.Crimes || oc.WithOutcome != wantOutcomes.WithOutcome || oc.Positive != wantOutcomes.Positive ||
		!maps.Equal(oc.ByOutcome, wantOutcomes.ByOutcome) {
		t.Errorf("CrimeOutcomes over the period: %+v, want %+v as the review", oc, wantOutcomes)
	}

	// No pseudonym leaves the database.
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("test key of at least thirty-two bytes")
	for _, p := range [][2]string{{"police", "V1"}, {"council", "V1"}, {"third_party", "V3"}, {"police", "O1"}} {
		if pseudonym := geo.Pseudonym(key, p[0], p[1]); strings.Contains(string(js), pseudonym) {
			t.Errorf("the review carries the pseudonym of %s %s", p[0], p[1])
		}
	}
}

// TestReviewEmptyPeriod checks a period without reports: zeros everywhere, every
// strand, source, area and month present, no median; what is open and overdue now
// does not depend on the period.
func TestReviewEmptyPeriod(t *testing.T) {
	db := reviewFixture(t)
	r := review(t, db, "2020-01-01", "2020-03-31")
	checkPeriod(t, "Q1 2020", r.Period, geo.PeriodCounts{From: mustDay(t, "2020-01-01"), To: mustDay(t, "2020-03-31"),
		ByStrand: strandCounts(0, 0, 0, 0, 0, 0, 0), BySource: sourceCounts(0, 0, 0, 0, 0)})
	checkPeriod(t, "Q1 2019", r.YearEarlier, geo.PeriodCounts{From: mustDay(t, "2019-01-01"), To: mustDay(t, "2019-03-31"),
		ByStrand: strandCounts(0, 0, 0, 0, 0, 0, 0), BySource: sourceCounts(0, 0, 0, 0, 0)})
	if _, ok := geo.PctChange(r.Period.Reports, r.YearEarlier.Reports); ok {
		t.Error("a percentage change against no reports")
	}
	wantAreas := []geo.ReviewArea{
		{Code: "E01000001", Name: "Alpha", Population: 2000},
		{Code: "E01000002", Name: "Bravo", Population: 500},
		{Code: "E01000003", Name: "Charlie"},
	}
	if !slices.Equal(r.Areas, wantAreas) {
		t.Errorf("areas:\n got %+v\nwant %+v", r.Areas, wantAreas)
	}
	if rate, ok := r.Areas[0].Rate(); !ok || rate != 0 {
		t.Errorf("rate of Alpha with no reports: %v %v, want 0 true", rate, ok)
	}
	if got := geo.RankByRise(r.Areas, 0); len(got) != 3 {
		t.Errorf("by rise: %d areas, want all 3", len(got))
	}
	checkMonths(t, r.Months, "2018-04-01", map[string][24]int{"": {}, "race": {}, "religion": {}, "sexual_orientation": {},
		"disability": {}, "transgender": {}, "sex": {}, "alternative_subculture": {}})
	if r.Repeats != (geo.ReviewRepeats{}) {
		t.Errorf("repeats: %+v, want none", r.Repeats)
	}
	if r.Alerts.Raised != 0 || len(r.Alerts.ByMethod) != 0 || len(r.Alerts.ByLevel) != 0 {
		t.Errorf("alerts: %+v, want none", r.Alerts)
	}
	checkAssessments(t, r.Assessments, geo.ReviewAssessments{Open: 5, Overdue: 3, OverdueActions: 3})
	if o := r.Outcomes; o.Crimes != 0 || o.WithOutcome != 0 || o.Positive != 0 || len(o.ByOutcome) != 0 {
		t.Errorf("outcomes: %+v, want none", o)
	}
}

// TestReviewPeriods checks the edges of periods: a year (both periods start and end
// on reports), a period longer than a year (it overlaps its year-earlier period), a
// partial last month, another level, the zone of assessment days, and an unknown
// level.
func TestReviewPeriods(t *testing.T) {
	db := reviewFixture(t)

	// April 2025 to March 2026: Q1 2026 and P6; a year earlier P12 on its first day,
	// Q1 2025 with C3 on its last.
	r := review(t, db, "2025-04-01", "2026-03-31")
	if r.Period.Reports != 11 || r.YearEarlier.Reports != 5 {
		t.Errorf("a year: %d and %d a year earlier, want 11 and 5", r.Period.Reports, r.YearEarlier.Reports)
	}

	// January 2025 to March 2026 against January 2024 to March 2025: Q1 2025 counts
	// in both.
	r = review(t, db, "2025-01-01", "2026-03-31")
	if r.Period.Reports != 15 || r.YearEarlier.Reports != 6 || r.YearEarlier.ByStrand["religion"] != 1 || r.Period.ByStrand["religion"] != 4 {
		t.Errorf("15 months: %d (religion %d) and %d (religion %d) a year earlier, want 15 (4) and 6 (1)",
			r.Period.Reports, r.Period.ByStrand["religion"], r.YearEarlier.Reports, r.YearEarlier.ByStrand["religion"])
	}

	// To in mid-March: the last month counts C2 and T1 only; the period's
	// assessments are those opened by then.
	r = review(t, db, "2026-01-01", "2026-03-15")
	if last := r.Months[23]; !last.Month.Equal(mustDay(t, "2026-03-01")) || last.Total != 2 || last.ByStrand["race"] != 1 {
		t.Errorf("partial March: %+v, want 2 reports, 1 of race", last)
	}
	if r.Period.Reports != 8 {
		t.Errorf("1 January to 15 March: %d reports, want 8", r.Period.Reports)
	}
	// January alone: s1 (2 days) and s4 (5 days), an even count.
	r = review(t, db, "2026-01-01", "2026-01-31")
	checkAssessments(t, r.Assessments, geo.ReviewAssessments{Opened: 2, Closed: 0, Open: 5, Overdue: 3, OverdueActions: 3,
		DaysToOpen: ptr(3.5), DaysToOpenOver: 2})

	// In UTC, s3 opens on 31 March, the day a3 was seen: days 0, 0, 2, 5.
	r = review(t, db, "2026-01-01", "2026-03-31", func(q *geo.ReviewQuery) { q.Location = nil })
	checkAssessments(t, r.Assessments, geo.ReviewAssessments{Opened: 5, Closed: 3, Open: 5, Overdue: 3, OverdueActions: 3,
		DaysToOpen: ptr(1.0), DaysToOpenOver: 4})
	// A day later s4 is overdue too: its review date and an action fell due on 10
	// April.
	r = review(t, db, "2026-01-01", "2026-03-31", func(q *geo.ReviewQuery) { q.Today = mustDay(t, "2026-04-11") })
	if a := r.Assessments; a.Overdue != 4 || a.OverdueActions != 4 {
		t.Errorf("on 11 April: %d overdue with %d actions, want 4 and 4", a.Overdue, a.OverdueActions)
	}

	// The ward holds Alpha and Bravo.
	r = review(t, db, "2026-01-01", "2026-03-31", func(q *geo.ReviewQuery) { q.Level = "ward" })
	if want := []geo.ReviewArea{{Code: "E05000001", Name: "Whiskey", Population: 2500, Count: 6, Previous: 4}}; !slices.Equal(r.Areas, want) {
		t.Errorf("wards: %+v, want %+v", r.Areas, want)
	}

	ctx := context.Background()
	_, err := db.Review(ctx, geo.ReviewQuery{From: mustDay(t, "2026-01-01"), To: mustDay(t, "2026-03-31"), Level: "beat"})
	if geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("unknown level: got %v, want EINVALID", err)
	}
	_, err = db.Review(ctx, geo.ReviewQuery{From: mustDay(t, "2026-03-31"), To: mustDay(t, "2026-01-01")})
	if geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("to before from: got %v, want EINVALID", err)
	}
}

// TestReviewWithoutAreas checks a database with reports and no areas: no level and
// no area table, the rest as usual.
func TestReviewWithoutAreas(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	p := newPipeline(t, db, geo.Defaults{})
	reader, err := geo.NewReader(strings.NewReader("source,source_ref,kind,strands,occurred,lat,lon,precision\n"+
		"police,X1,crime,race,2026-02-01,52.005,-0.795,exact\n"), geo.ReaderOptions{Format: geo.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ingest(ctx, t, reader, 10); err != nil {
		t.Fatal(err)
	}
	r := review(t, db, "2026-01-01", "2026-03-31")
	if r.Query.Level != "" || r.Areas == nil || len(r.Areas) != 0 || r.Period.Reports != 1 || r.Outcomes.Crimes != 1 {
		t.Errorf("without areas: level %q, areas %v, %d reports, %d police crimes", r.Query.Level, r.Areas, r.Period.Reports, r.Outcomes.Crimes)
	}
}

func checkMonths(t *testing.T, got []geo.MonthCount, first string, want map[string][24]int) {
	t.Helper()
	if len(got) != 24 {
		t.Fatalf("%d months, want 24", len(got))
	}
	start := mustDay(t, first)
	for i, m := range got {
		if !m.Month.Equal(start.AddDate(0, i, 0)) {
			t.Errorf("month %d is %s, want %s", i, m.Month.Format(time.DateOnly), start.AddDate(0, i, 0).Format(time.DateOnly))
		}
		if len(m.ByStrand) != len(want)-1 {
			t.Errorf("month %s: %d strands, want %d", m.Month.Format("2006-01"), len(m.ByStrand), len(want)-1)
		}
		for strand, series := range want {
			n := m.Total
			if strand != "" {
				var ok bool
				if n, ok = m.ByStrand[strand]; !ok {
					t.Errorf("month %s: no count for %s", m.Month.Format("2006-01"), strand)
				}
			}
			if n != series[i] {
				t.Errorf("month %s, strand %q: %d, want %d", m.Month.Format("2006-01"), strand, n, series[i])
			}
		}
	}
}

func checkAssessments(t *testing.T, got, want geo.ReviewAssessments) {
	t.Helper()
	median := func(p *float64) string {
		if p == nil {
			return "none"
		}
		return fmt.Sprint(*p)
	}
	g, w := got, want
	g.DaysToOpen, w.DaysToOpen = nil, nil
	if g != w || (got.DaysToOpen == nil) != (want.DaysToOpen == nil) || (got.DaysToOpen != nil && *got.DaysToOpen != *want.DaysToOpen) {
		t.Errorf("assessments:\n got %+v, median %s days\nwant %+v, median %s days", g, median(got.DaysToOpen), w, median(want.DaysToOpen))
	}
}

func codes(areas []geo.ReviewArea) []string {
	var out []string
	for _, a := range areas {
		out = append(out, a.Code)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
