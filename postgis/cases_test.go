package postgis_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/cases"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

// storedCase is a case with every part filled: two reports, an officer, an
// action plan, contacts with notes, a closure with a reason and a survey.
func storedCase(officer int64) *cases.Case {
	at := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 15, 0, 0, time.UTC) }
	return &cases.Case{
		Partner: "council", Ref: "ASB-1", VictimKey: strings.Repeat("ab", 16),
		Reports: []cases.ReportRef{{Source: "council", Ref: "R1"}, {Source: "police", Ref: "P9"}},
		Officer: officer, OpenedAt: at(2, 9), FirstContactAt: at(3, 10), VictimsCodeAt: at(3, 10),
		Risk: cases.RiskMedium, Referral: true,
		Actions: []cases.Action{{Text: "Fit a door camera", Owner: "housing", Due: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC),
			DoneAt: at(18, 11)}},
		Contacts: []cases.Contact{{At: at(3, 10), How: cases.ContactPhone, By: "A. Officer", Note: "Worried about the stairwell"},
			{At: at(13, 14), How: cases.ContactVisit, By: "A. Officer", Note: "Visited at home"}},
		Closure: &cases.Closure{At: at(25, 16), Outcome: cases.OutcomeNotResolved, Reason: "Neighbour moved, no evidence"},
		Survey:  &cases.Survey{At: at(30, 12), SatisfiedOutcome: false, SatisfiedHandling: true},
	}
}

func caseUser(t *testing.T, db *postgis.DB) int64 {
	t.Helper()
	u := &access.User{Username: "officer1", Name: "A. Officer", Role: access.Council, PasswordHash: "x"}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// sameCase compares two cases' stored fields, moments as instants.
func sameCase(t *testing.T, got, want *cases.Case) {
	t.Helper()
	g, w := got.Clone(), want.Clone()
	for _, c := range []*cases.Case{g, w} {
		c.ID, c.Version, c.CreatedAt, c.UpdatedAt, c.History = 0, 0, time.Time{}, time.Time{}, nil
	}
	norm := func(c *cases.Case) {
		u := func(t *time.Time) {
			if !t.IsZero() {
				*t = t.UTC()
			}
		}
		u(&c.OpenedAt)
		u(&c.FirstContactAt)
		u(&c.VictimsCodeAt)
		u(&c.ErasedAt)
		for i := range c.Actions {
			u(&c.Actions[i].Due)
			u(&c.Actions[i].DoneAt)
		}
		for i := range c.Contacts {
			u(&c.Contacts[i].At)
		}
		if c.Closure != nil {
			u(&c.Closure.At)
		}
		if c.Survey != nil {
			u(&c.Survey.At)
		}
	}
	norm(g)
	norm(w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("stored case differs:\n got %+v\nwant %+v", g, w)
	}
}

// TestCaseRoundTrip stores a full case, reads it back whole with its history,
// updates it with its version and refuses a stale one or a second case with the
// same partner reference.
func TestCaseRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	officer := caseUser(t, db)
	c := storedCase(officer)
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	e, err := cases.Rules{}.Open(c, "user:officer1", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCase(ctx, c, e); err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 || c.Version != 1 {
		t.Fatalf("created case: id %d version %d", c.ID, c.Version)
	}
	got, err := db.Case(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameCase(t, got, c)
	if len(got.History) != 1 || got.History[0].Action != cases.ActOpened || got.History[0].Actor != "user:officer1" {
		t.Errorf("history: %+v", got.History)
	}
	byRef, err := db.CaseByRef(ctx, "council", "ASB-1")
	if err != nil || byRef.ID != c.ID {
		t.Fatalf("by reference: %v, %v", byRef, err)
	}

	// The same partner reference again is a conflict.
	dup := storedCase(officer)
	if err := db.CreateCase(ctx, dup); geo.ErrorCode(err) != geo.ECONFLICT {
		t.Errorf("second case with the same reference: got %v, want ECONFLICT", err)
	}

	// An open case: no closure, no survey, no officer.
	open := &cases.Case{Partner: "police", Ref: "HC-7", VictimKey: strings.Repeat("0f", 16), OpenedAt: now, Risk: cases.RiskHigh,
		Reports: []cases.ReportRef{}, Actions: []cases.Action{}, Contacts: []cases.Contact{}}
	if err := db.CreateCase(ctx, open); err != nil {
		t.Fatal(err)
	}
	gotOpen, err := db.Case(ctx, open.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameCase(t, gotOpen, open)

	// A contact added through the rules and saved with the version read.
	e, err = cases.Rules{}.AddContact(gotOpen, cases.Contact{At: now.Add(2 * time.Hour), How: cases.ContactPhone, By: "PC Shah",
		Note: "Called back"}, "user:pc", now.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	stale := gotOpen.Clone()
	if err := db.UpdateCase(ctx, gotOpen, e); err != nil {
		t.Fatal(err)
	}
	if gotOpen.Version != 2 {
		t.Errorf("version after an update: %d, want 2", gotOpen.Version)
	}
	if err := db.UpdateCase(ctx, stale, e); geo.ErrorCode(err) != geo.ECONFLICT {
		t.Errorf("stale update: got %v, want ECONFLICT", err)
	}
	again, _ := db.Case(ctx, open.ID)
	if !again.FirstContactAt.Equal(now.Add(2*time.Hour)) || len(again.Contacts) != 1 || len(again.History) != 1 {
		t.Errorf("after a contact: first %v, contacts %d, history %d", again.FirstContactAt, len(again.Contacts), len(again.History))
	}

	// Lists by partner and openness.
	list, err := db.Cases(ctx, cases.Filter{Partners: []string{"police"}, Open: true})
	if err != nil || len(list) != 1 || list[0].Ref != "HC-7" {
		t.Errorf("open police cases: %v, %v", list, err)
	}
	list, _ = db.Cases(ctx, cases.Filter{Officer: officer})
	if len(list) != 1 || list[0].Ref != "ASB-1" {
		t.Errorf("the officer's cases: %v", list)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM case_history`); err == nil {
		t.Error("case history could be deleted")
	}
}

// TestEraseVictim removes a complainant's free text from every case of theirs and
// keeps every date, outcome and survey answer, so the figures are the same after.
func TestEraseVictim(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	officer := caseUser(t, db)
	c := storedCase(officer)
	if err := db.CreateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	other := storedCase(officer)
	other.Ref, other.VictimKey = "ASB-2", strings.Repeat("cd", 16)
	if err := db.CreateCase(ctx, other); err != nil {
		t.Fatal(err)
	}
	cal := cases.DefaultCalendar(time.UTC)
	period := cases.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)}
	all, _ := db.CasesForFigures(ctx, period.From, period.To)
	before := cases.DefaultStandards().Measure(cal, all, period)

	now := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
	ids, err := db.EraseVictim(ctx, c.VictimKey, "user:admin", now)
	if err != nil || len(ids) != 1 || ids[0] != c.ID {
		t.Fatalf("erased %v, %v", ids, err)
	}
	got, _ := db.Case(ctx, c.ID)
	for _, x := range got.Contacts {
		if x.Note != "" {
			t.Errorf("a contact note survived: %q", x.Note)
		}
	}
	if got.Actions[0].Text != "" || got.Closure.Reason != "" || got.ErasedAt.IsZero() {
		t.Errorf("after erasure: action %q, reason %q, erased at %v", got.Actions[0].Text, got.Closure.Reason, got.ErasedAt)
	}
	if len(got.Contacts) != 2 || got.Actions[0].Owner != "housing" || got.Survey == nil || !got.Survey.SatisfiedHandling {
		t.Errorf("erasure lost more than text: %+v", got)
	}
	if h := got.History[len(got.History)-1]; h.Action != cases.ActErased || h.Changes["texts"] != float64(4) {
		t.Errorf("erasure history: %+v", h)
	}
	kept, _ := db.Case(ctx, other.ID)
	if kept.Contacts[0].Note == "" {
		t.Error("another complainant's notes were erased")
	}
	all, _ = db.CasesForFigures(ctx, period.From, period.To)
	after := cases.DefaultStandards().Measure(cal, all, period)
	if !reflect.DeepEqual(before.List(), after.List()) || before.DaysToClosure != after.DaysToClosure {
		t.Errorf("figures changed with the erasure:\n%+v\n%+v", before.List(), after.List())
	}
	if before.Closed != 2 || before.SatisfiedHandling.Numerator != 2 {
		t.Errorf("figures: %+v", before)
	}
}

// TestRepeatReports reads the reports the repeat rule needs, with their
// pseudonyms, strands and days.
func TestRepeatReports(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	p := newPipeline(t, db, geo.Defaults{})
	csv := strings.Join([]string{
		"source,source_ref,kind,strands,occurred,precision,victim_ref,offender_ref",
		"police,A1,crime,race,2025-03-01,online,V1,",
		"police,A2,crime,religion,2025-09-01,online,V1,O1",
		"police,A3,crime,race,2025-10-01,online,,",
		"council,C1,incident,race,2025-11-01,online,V1,O1",
	}, "\r\n")
	r, err := geo.NewReader(strings.NewReader(csv), geo.ReaderOptions{Format: geo.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ingest(ctx, t, r, 100); err != nil {
		t.Fatal(err)
	}
	reports, err := db.RepeatReports(ctx, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 3 {
		t.Fatalf("got %d reports naming someone, want 3: %+v", len(reports), reports)
	}
	rule := cases.DefaultRepeatRule()
	asOf := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	victims := rule.Find(reports, cases.Victim, asOf)
	// V1 by the police twice (A1, A2); V1 by the council is another pseudonym.
	if len(victims) != 1 || victims[0].Reports != 2 || strings.Join(victims[0].Strands, ",") != "race,religion" ||
		victims[0].Refs[0].Ref != "A1" {
		t.Errorf("repeat victims: %+v", victims)
	}
	if off := rule.Find(reports, cases.Offender, asOf); len(off) != 0 {
		t.Errorf("offenders keyed by two sources are two people: %+v", off)
	}
}
