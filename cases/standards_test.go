package cases

import (
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// standardsFixture is nine cases around the first quarter of 2023, each counted
// by hand against the standards (London, England and Wales bank holidays: Mon 2
// Jan 2023 is the New Year holiday). Every moment is 10:00 unless it says.
func standardsFixture(t *testing.T) map[string]*Case {
	m := func(y int, mo time.Month, d int) time.Time { return at(t, y, mo, d, 10, 0) }
	contacts := func(days ...time.Time) []Contact {
		var out []Contact
		for _, d := range days {
			out = append(out, Contact{At: d, How: ContactPhone, By: "Case officer"})
		}
		return out
	}
	key := func(c byte) string { return strings.Repeat(string(c), 32) }
	return map[string]*Case{
		// A: opened before the quarter; contacts 3 and 16 Jan, closed 3 Feb: the
		// last gap, 17 Jan to 3 Feb, is 14 working days (not kept in contact).
		// Resolved; surveyed 20 Feb (due 17 Mar): satisfied with the outcome, not
		// the handling. 35 days to closure.
		"A": {Partner: "council", Ref: "A", VictimKey: key('a'), Risk: RiskStandard, OpenedAt: m(2022, 12, 30),
			FirstContactAt: m(2023, 1, 3), VictimsCodeAt: m(2023, 1, 3), Contacts: contacts(m(2023, 1, 3), m(2023, 1, 16)),
			Closure: &Closure{At: m(2023, 2, 3), Outcome: OutcomeResolved},
			Survey:  &Survey{At: m(2023, 2, 20), SatisfiedOutcome: true}},
		// B: opened Thu 5 Jan, first contact Fri 6 Jan (on time) with the Code;
		// contacts exactly ten working days apart; closed 3 Mar not resolved (ten
		// working days after the last contact); no survey, due 14 Apr. 57 days.
		"B": {Partner: "police", Ref: "B", VictimKey: key('b'), Risk: RiskHigh, Referral: true, OpenedAt: m(2023, 1, 5),
			FirstContactAt: m(2023, 1, 6), VictimsCodeAt: m(2023, 1, 6),
			Contacts: contacts(m(2023, 1, 6), m(2023, 1, 20), m(2023, 2, 3), m(2023, 2, 17)),
			Closure:  &Closure{At: m(2023, 3, 3), Outcome: OutcomeNotResolved, Reason: "No suspect identified."}},
		// C: opened Fri 6 Jan at 16:00; first contact Tue 10 Jan, a day late (due
		// Mon 9 Jan); the Code offered the day after it; last contact 24 Jan and
		// open at the end of March: not kept in contact.
		"C": {Partner: "police", Ref: "C", VictimKey: key('c'), Risk: RiskStandard, OpenedAt: at(t, 2023, 1, 6, 16, 0),
			FirstContactAt: m(2023, 1, 10), VictimsCodeAt: m(2023, 1, 11), Contacts: contacts(m(2023, 1, 10), m(2023, 1, 24))},
		// D: opened in April, after the quarter: counts nowhere.
		"D": {Partner: "council", Ref: "D", VictimKey: key('d'), Risk: RiskStandard, OpenedAt: m(2023, 4, 6),
			FirstContactAt: m(2023, 4, 11), Contacts: contacts(m(2023, 4, 11))},
		// E: opened Sat 25 Mar; first contact Mon 27 Mar (on time), no Code offer;
		// closed Fri 31 Mar, withdrawn; surveyed Fri 12 May, the last day of six
		// weeks: on time, not satisfied with the outcome, satisfied with the
		// handling. 6 days.
		"E": {Partner: "third_party", Ref: "E", VictimKey: key('e'), Risk: RiskMedium, OpenedAt: m(2023, 3, 25),
			FirstContactAt: m(2023, 3, 27), Contacts: contacts(m(2023, 3, 27)),
			Closure: &Closure{At: m(2023, 3, 31), Outcome: OutcomeWithdrawn, Reason: "Moved away."},
			Survey:  &Survey{At: m(2023, 5, 12), SatisfiedHandling: true}},
		// F: opened on the bank holiday Mon 2 Jan with the Code offered then; first
		// contact Tue 3 Jan (on time); closed Tue 17 Jan, resolved (ten working
		// days on); surveyed Wed 1 Mar, a day after six weeks (late), satisfied
		// with both. 15 days.
		"F": {Partner: "council", Ref: "F", VictimKey: key('f'), Risk: RiskStandard, OpenedAt: at(t, 2023, 1, 2, 11, 0),
			VictimsCodeAt: at(t, 2023, 1, 2, 11, 0), FirstContactAt: m(2023, 1, 3), Contacts: contacts(m(2023, 1, 3)),
			Closure: &Closure{At: m(2023, 1, 17), Outcome: OutcomeResolved},
			Survey:  &Survey{At: m(2023, 3, 1), SatisfiedOutcome: true, SatisfiedHandling: true}},
		// G: opened Wed 29 Mar, never contacted: the first contact was due Thu 30 Mar.
		"G": {Partner: "police", Ref: "G", VictimKey: key('1'), Risk: RiskStandard, OpenedAt: m(2023, 3, 29)},
		// H: opened and closed in 2022: counts nowhere in the quarter.
		"H": {Partner: "police", Ref: "H", VictimKey: key('2'), Risk: RiskStandard, OpenedAt: m(2022, 11, 14),
			FirstContactAt: m(2022, 11, 14), Contacts: contacts(m(2022, 11, 14)), Closure: &Closure{At: m(2022, 12, 16), Outcome: OutcomeResolved}},
		// I: opened 1 Nov 2022 and open throughout; a lapse in November (1 Nov to 1
		// Dec) ended before the quarter; from 14 Dec contacts every ten working
		// days or fewer (8, 9, then 10 each) to 22 Mar, then 7 to 31 Mar: kept in
		// contact in the quarter.
		"I": {Partner: "council", Ref: "I", VictimKey: key('3'), Risk: RiskStandard, OpenedAt: m(2022, 11, 1),
			FirstContactAt: m(2022, 11, 1), Contacts: contacts(m(2022, 11, 1), m(2022, 12, 1), m(2022, 12, 14), m(2022, 12, 28),
				m(2023, 1, 11), m(2023, 1, 25), m(2023, 2, 8), m(2023, 2, 22), m(2023, 3, 8), m(2023, 3, 22))},
	}
}

func fixtureList(f map[string]*Case, names string) []*Case {
	var out []*Case
	for _, n := range names {
		out = append(out, f[string(n)])
	}
	return out
}

type want struct{ num, den int }

func checkFigure(t *testing.T, name string, f Figure, w want) {
	t.Helper()
	if f.Numerator != w.num || f.Denominator != w.den {
		t.Errorf("%s: got %d of %d, want %d of %d", name, f.Numerator, f.Denominator, w.num, w.den)
	}
}

func TestMeasureByHand(t *testing.T) {
	cal := DefaultCalendar(london(t))
	std := DefaultStandards()
	fx := standardsFixture(t)
	rules := Rules{Calendar: cal}
	for name, c := range fx {
		if err := rules.Check(c, day(2023, 6, 30)); err != nil {
			t.Fatalf("fixture %s: %v", name, err)
		}
	}
	all := fixtureList(fx, "ABCDEFGHI")
	q1 := Period{From: day(2023, 1, 1), To: day(2023, 3, 31)}

	// Taken at the end of June: every deadline has passed.
	q1.Today = day(2023, 6, 30)
	f := std.Measure(cal, all, q1)
	checkFigure(t, "first contact", f.FirstContact, want{3, 5})           // B E F on time; C late; G never
	checkFigure(t, "kept in contact", f.KeptInContact, want{5, 7})        // B E F G I; A and C lapsed
	checkFigure(t, "Victims' Code", f.VictimsCode, want{2, 4})            // B F; C late, E never
	checkFigure(t, "resolved", f.Resolved, want{2, 3})                    // A F; B not; E withdrawn, left out
	checkFigure(t, "satisfied outcome", f.SatisfiedOutcome, want{2, 3})   // A F; E not
	checkFigure(t, "satisfied handling", f.SatisfiedHandling, want{2, 3}) // E F; A not
	checkFigure(t, "survey on time", f.SurveyOnTime, want{2, 4})          // A E; F late, B none
	if f.Opened != 5 || f.Closed != 4 || f.Withdrawn != 1 {
		t.Errorf("opened %d, closed %d, withdrawn %d; want 5, 4, 1", f.Opened, f.Closed, f.Withdrawn)
	}
	if f.DaysToClosure != (Median{Days: 25, N: 4}) { // 6 15 35 57
		t.Errorf("days to closure: got %+v, want 25 of 4", f.DaysToClosure)
	}
	if f.FirstContact.Target != 100 || f.Resolved.Target != 80 || f.SatisfiedHandling.Target != 70 || f.SurveyOnTime.Target != 0 {
		t.Errorf("targets: %+v", f.List())
	}
	if met, ok := f.Resolved.Met(); met || !ok {
		t.Errorf("2 of 3 resolved meets 80%%: %v %v", met, ok)
	}
	if _, ok := f.SurveyOnTime.Met(); ok {
		t.Error("surveys on time have no default target")
	}

	// Taken on Fri 31 March: B's survey is not yet due; E's survey is not yet taken.
	q1.Today = day(2023, 3, 31)
	f = std.Measure(cal, all, q1)
	checkFigure(t, "first contact on 31 Mar", f.FirstContact, want{3, 5})  // G was due on the 30th
	checkFigure(t, "survey on time on 31 Mar", f.SurveyOnTime, want{1, 2}) // A on time, F late
	checkFigure(t, "satisfied outcome on 31 Mar", f.SatisfiedOutcome, want{2, 2})
	checkFigure(t, "satisfied handling on 31 Mar", f.SatisfiedHandling, want{1, 2})

	// Taken on Thu 30 March: G's first contact is due that day, E not yet closed.
	q1.Today = day(2023, 3, 30)
	f = std.Measure(cal, all, q1)
	checkFigure(t, "first contact on 30 Mar", f.FirstContact, want{3, 4})
	checkFigure(t, "kept in contact on 30 Mar", f.KeptInContact, want{5, 7})
	checkFigure(t, "resolved on 30 Mar", f.Resolved, want{2, 3})
	if f.Closed != 3 || f.Withdrawn != 0 {
		t.Errorf("on 30 Mar: closed %d, withdrawn %d; want 3, 0", f.Closed, f.Withdrawn)
	}

	// The year before: nothing counts, and no share is given.
	q1.Today = day(2023, 6, 30)
	prev := q1.YearEarlier()
	if !prev.From.Equal(day(2022, 1, 1)) || !prev.To.Equal(day(2022, 3, 31)) {
		t.Errorf("year earlier: %+v", prev)
	}
	f = std.Measure(cal, all, prev)
	for _, fig := range f.List() {
		if _, ok := fig.Share(); ok || fig.Denominator != 0 {
			t.Errorf("%s a year earlier: %d of %d", fig.Key, fig.Numerator, fig.Denominator)
		}
	}

	// By partner.
	byp := std.MeasureByPartner(cal, all, q1)
	if len(byp) != 3 || byp[0].Partner != "council" || byp[1].Partner != "police" || byp[2].Partner != "third_party" {
		t.Fatalf("partners: %+v", byp)
	}
	checkFigure(t, "council first contact", byp[0].FirstContact, want{1, 1})    // F
	checkFigure(t, "council kept in contact", byp[0].KeptInContact, want{2, 3}) // F I; A not
	checkFigure(t, "police first contact", byp[1].FirstContact, want{1, 3})     // B; C, G not
	checkFigure(t, "police resolved", byp[1].Resolved, want{0, 1})              // B
	checkFigure(t, "third party survey on time", byp[2].SurveyOnTime, want{1, 1})
}

func TestFigureShareAndTargets(t *testing.T) {
	f := Figure{Numerator: 4, Denominator: 5, Target: 80}
	if s, ok := f.Share(); !ok || s != 80 {
		t.Errorf("share: %v %v", s, ok)
	}
	if met, ok := f.Met(); !met || !ok {
		t.Error("4 of 5 meets 80%")
	}
	f.Numerator = 3
	if met, _ := f.Met(); met {
		t.Error("3 of 5 does not meet 80%")
	}
	tg, err := ParseTargets(" resolved = 75%, satisfied_outcome=65 ,survey_on_time=90")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Resolved != 75 || tg.SatisfiedOutcome != 65 || tg.SurveyOnTime != 90 || tg.FirstContact != 100 || tg.SatisfiedHandling != 70 {
		t.Errorf("targets: %+v", tg)
	}
	for in, msg := range map[string]string{
		"resolved":      `"resolved" is not key=percent`,
		"happiness=70":  `"happiness" is not a standard`,
		"resolved=180":  `resolved: "180" is not a percentage`,
		"resolved=high": `resolved: "high" is not a percentage`,
	} {
		if _, err := ParseTargets(in); geo.ErrorCode(err) != geo.EINVALID || !strings.Contains(geo.ErrorMessage(err), msg) {
			t.Errorf("%q: got %v, want %s", in, err, msg)
		}
	}
	if m := median([]int{3, 1, 2}); m != (Median{Days: 2, N: 3}) {
		t.Errorf("median of three: %+v", m)
	}
	if m := median(nil); m.N != 0 {
		t.Errorf("median of none: %+v", m)
	}
}

// TestDeclinedSurvey: a complainant who declines the survey was offered it, so the
// survey counts as done (on time when offered within six weeks) and in neither
// satisfaction figure; the figures count the declined on their own. A declined
// survey has no answers.
func TestDeclinedSurvey(t *testing.T) {
	m := func(mo time.Month, d int) time.Time { return at(t, 2023, mo, d, 10, 0) }
	base := func(ref string, sv *Survey) *Case {
		return &Case{Partner: "council", Ref: ref, VictimKey: strings.Repeat("a", 31) + ref, Risk: RiskStandard, OpenedAt: m(2, 1),
			FirstContactAt: m(2, 2), Contacts: []Contact{{At: m(2, 2), How: ContactPhone, By: "Officer"}},
			Closure: &Closure{At: m(2, 10), Outcome: OutcomeResolved}, Survey: sv}
	}
	cs := []*Case{
		base("1", &Survey{At: m(3, 1), Declined: true}),                                   // offered within six weeks (by 24 Mar)
		base("2", &Survey{At: m(4, 3), Declined: true}),                                   // offered late
		base("3", &Survey{At: m(3, 2), SatisfiedOutcome: true, SatisfiedHandling: false}), // answered
		base("4", nil), // never surveyed, due 24 Mar
	}
	cal := DefaultCalendar(time.UTC)
	f := DefaultStandards().Measure(cal, cs, Period{From: m(1, 1), To: m(3, 31), Today: m(5, 1)})
	if f.Declined != 2 {
		t.Errorf("declined: %d, want 2", f.Declined)
	}
	for _, c := range []struct {
		fig      Figure
		num, den int
	}{{f.SurveyOnTime, 2, 4}, {f.SatisfiedOutcome, 1, 1}, {f.SatisfiedHandling, 0, 1}} {
		if c.fig.Numerator != c.num || c.fig.Denominator != c.den {
			t.Errorf("%s: %d of %d, want %d of %d", c.fig.Key, c.fig.Numerator, c.fig.Denominator, c.num, c.den)
		}
	}
	bad := base("5", &Survey{At: m(3, 1), Declined: true, SatisfiedOutcome: true})
	if err := (Rules{}).Check(bad, m(5, 1)); err == nil || !strings.Contains(err.Error(), "declined survey has no answers") {
		t.Errorf("a declined survey with answers: %v", err)
	}
}
