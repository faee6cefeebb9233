package cases

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func synthOptions(t *testing.T, seed int64) SynthOptions {
	return SynthOptions{Seed: seed, Now: at(t, 2024, 6, 28, 15, 0), Calendar: DefaultCalendar(london(t)), Cases: 3000, Days: 730,
		Officers: map[string][]int64{"police": {3, 4}, "council": {5}}, Actors: map[int64]string{3: "user:pc.jones"}}
}

// TestSynthesizeDeterministic: the same seed gives the same cases, another seed others.
func TestSynthesizeDeterministic(t *testing.T) {
	o := synthOptions(t, 7)
	o.Cases = 300
	enc := func(o SynthOptions) string {
		cs, err := Synthesize(o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(cs)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b := enc(o), enc(o)
	if a != b {
		t.Error("the same seed gave different cases")
	}
	o.Seed = 8
	if enc(o) == a {
		t.Error("another seed gave the same cases")
	}
}

// TestSynthesizeAsDesigned makes 3,000 cases over two years and measures them:
// each figure comes out near the profile's share, within five standard errors.
func TestSynthesizeAsDesigned(t *testing.T) {
	o := synthOptions(t, 2026)
	cal, p := o.Calendar, DemoProfile()
	cs, err := Synthesize(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != o.Cases {
		t.Fatalf("got %d cases, want %d", len(cs), o.Cases)
	}
	today := cal.Day(o.Now)
	rules := Rules{Calendar: cal}
	refs := map[string]bool{}
	open := 0
	for _, c := range cs {
		if err := rules.Check(c, today); err != nil {
			t.Fatalf("case %s: %v", c.Ref, err)
		}
		if refs[c.Partner+" "+c.Ref] {
			t.Fatalf("case %s %s twice", c.Partner, c.Ref)
		}
		refs[c.Partner+" "+c.Ref] = true
		if len(c.History) != c.Version || c.History[0].Action != ActOpened {
			t.Fatalf("case %s: version %d, history %d entries starting %q", c.Ref, c.Version, len(c.History), c.History[0].Action)
		}
		for _, h := range c.History {
			if h.At.After(o.Now) {
				t.Fatalf("case %s: a change in the future, %v", c.Ref, h.At)
			}
		}
		if c.Officer == 3 && c.History[0].Actor != "user:pc.jones" || c.Partner == "third_party" && c.Officer != 0 {
			t.Fatalf("case %s: officer %d, actor %s", c.Ref, c.Officer, c.History[0].Actor)
		}
		// Working days: every contact, offer, action done, closure and survey.
		working := func(what string, t0 time.Time) {
			if !t0.IsZero() && !cal.IsWorkingDay(cal.Day(t0)) {
				t.Fatalf("case %s: %s on %s, not a working day", c.Ref, what, dayWords(cal.Day(t0)))
			}
		}
		working("first contact", c.FirstContactAt)
		for _, x := range c.Contacts {
			working("contact", x.At)
		}
		for _, a := range c.Actions {
			working("action done", a.DoneAt)
		}
		if c.VictimsCodeAt.After(c.FirstContactAt) {
			working("Victims' Code offer", c.VictimsCodeAt)
		}
		if c.Closure != nil {
			working("closure", c.Closure.At)
		}
		if c.Survey != nil {
			working("survey", c.Survey.At)
		}
		if c.Open() {
			open++
		}
	}

	f := DefaultStandards().Measure(cal, cs, Period{From: today.AddDate(0, 0, -o.Days), To: today, Today: today})
	near := func(name string, fig Figure, want float64) {
		t.Helper()
		got, ok := fig.Share()
		se := math.Sqrt(want * (1 - want) / float64(fig.Denominator))
		if !ok || math.Abs(got/100-want) > 5*se {
			t.Errorf("%s: got %.1f%% of %d, want %.1f%% ± %.1f", name, got, fig.Denominator, 100*want, 500*se)
		}
		t.Logf("%-20s %5.1f%% of %4d (designed %.1f%%)", name, got, fig.Denominator, 100*want)
	}
	near("first contact", f.FirstContact, p.FirstContactOnTime)
	near("Victims' Code", f.VictimsCode, p.VictimsCodeAtFirst)
	near("kept in contact", f.KeptInContact, p.KeptInContact)
	near("resolved", f.Resolved, p.Resolved)
	near("survey on time", f.SurveyOnTime, p.Surveyed*p.SurveyOnTime)
	near("satisfied handling", f.SatisfiedHandling, p.SatisfiedHandling)
	// Satisfaction with the outcome depends on the outcome: the design's share is
	// the mean over the surveyed cases of the rate for theirs.
	var sum float64
	var n int
	for _, c := range cs {
		if c.Survey != nil && !c.Survey.Declined {
			n++
			if c.Closure.Outcome == OutcomeResolved {
				sum += p.SatisfiedResolved
			} else {
				sum += p.SatisfiedOther
			}
		}
	}
	near("satisfied outcome", f.SatisfiedOutcome, sum/float64(n))
	if w := float64(f.Withdrawn) / float64(f.Closed); math.Abs(w-p.Withdrawn) > 5*math.Sqrt(p.Withdrawn*(1-p.Withdrawn)/float64(f.Closed)) {
		t.Errorf("withdrawn: %.1f%% of %d closed, want %.0f%%", 100*w, f.Closed, 100*p.Withdrawn)
	}
	// A few cases without a survey: closed, six weeks gone, none taken.
	var owed, none int
	std := DefaultStandards()
	for _, c := range cs {
		if c.Closed() && std.SurveyDue(cal, c).Before(today) {
			owed++
			if c.Survey == nil {
				none++
			}
		}
	}
	if s := float64(none) / float64(owed); math.Abs(s-(1-p.Surveyed)) > 0.03 {
		t.Errorf("without a survey: %.1f%% of %d, want about %.0f%%", 100*s, owed, 100*(1-p.Surveyed))
	}
	// All three kinds of closed case: surveyed, declined (complainant refused),
	// never surveyed; declined ones near the designed share of the surveys, and
	// in neither satisfaction figure.
	var answered, declined int
	for _, c := range cs {
		if c.Survey == nil {
			continue
		}
		if c.Survey.Declined {
			declined++
			if c.Survey.SatisfiedOutcome || c.Survey.SatisfiedHandling {
				t.Errorf("case %s: a declined survey with an answer", c.Ref)
			}
		} else {
			answered++
		}
	}
	if answered == 0 || declined == 0 || none == 0 {
		t.Errorf("surveys: %d answered, %d declined, %d closed cases owed one without", answered, declined, none)
	}
	surveys := answered + declined
	if d := float64(declined) / float64(surveys); math.Abs(d-p.Declined) > 5*math.Sqrt(p.Declined*(1-p.Declined)/float64(surveys)) {
		t.Errorf("declined: %.1f%% of %d surveys, want %.0f%%", 100*d, surveys, 100*p.Declined)
	}
	if f.Declined == 0 || f.Declined+f.SatisfiedHandling.Denominator > f.Closed {
		t.Errorf("figures: %d declined, %d surveys answered, %d closed", f.Declined, f.SatisfiedHandling.Denominator, f.Closed)
	}
	t.Logf("surveys: %d answered, %d declined, %d owed and never taken", answered, declined, none)
	// Cases close three to seventeen weeks after opening: a median near ten weeks.
	if m := f.DaysToClosure; m.Days < 60 || m.Days > 80 {
		t.Errorf("median days to closure: %v", m)
	}
	// Recent cases are still open, older ones closed.
	if open < 100 || open > 400 {
		t.Errorf("%d cases open at the end", open)
	}
	// The worklists have something on them, overdue and not.
	var due, overdue int
	for _, c := range cs {
		for _, it := range std.Due(cal, c, today) {
			due++
			if it.Overdue {
				overdue++
			}
		}
	}
	if due == 0 || overdue == 0 || overdue == due {
		t.Errorf("worklist items: %d, of which %d overdue", due, overdue)
	}
	t.Logf("%d cases, %d open, %d closed in the two years (%d withdrawn), median %.1f days to closure; %d worklist items, %d overdue",
		len(cs), open, f.Closed, f.Withdrawn, f.DaysToClosure.Days, due, overdue)
}

// TestSynthesizeFromReports opens cases for the complainants of a partner's
// reports and links their reports.
func TestSynthesizeFromReports(t *testing.T) {
	o := synthOptions(t, 3)
	o.Cases, o.Days = 0, 0
	var reports []Report
	first := map[string]time.Time{}
	for i := range 400 {
		src := []string{"police", "council", "third_party", "anonymous"}[i%4]
		key := fmt.Sprintf("%032x", i%200)
		d := day(2023, 1, 1).AddDate(0, 0, (i*37)%500)
		reports = append(reports, Report{Source: src, SourceRef: fmt.Sprintf("R%d", i), VictimKey: key, Day: d, Strands: []string{"race"}})
		if f, ok := first[src+key]; !ok || d.Before(f) {
			first[src+key] = d
		}
	}
	reports = append(reports, Report{Source: "police", SourceRef: "no-victim", Day: day(2023, 5, 1)})
	o.Reports, o.Share = reports, 0.5
	cs, err := Synthesize(o)
	if err != nil {
		t.Fatal(err)
	}
	// 400 reports name 200 complainants, two reports each, 150 of them in the
	// three partners (anonymous reports open no case); about half get a case.
	if len(cs) < 50 || len(cs) > 100 {
		t.Errorf("got %d cases from 150 complainants at a half", len(cs))
	}
	cal := o.Calendar
	for _, c := range cs {
		if c.Partner == "anonymous" {
			t.Fatalf("case %s owned by anonymous", c.Ref)
		}
		f, ok := first[c.Partner+c.VictimKey]
		if !ok {
			t.Fatalf("case %s: victim key of no report of its partner", c.Ref)
		}
		if lag := cal.Day(c.OpenedAt).Sub(f).Hours() / 24; lag < 0 || lag > 2 {
			t.Errorf("case %s opened %v days after the first report", c.Ref, lag)
		}
		if len(c.Reports) == 0 {
			t.Errorf("case %s follows no report", c.Ref)
		}
		for _, r := range c.Reports {
			if r.Source != c.Partner || !strings.HasPrefix(r.Ref, "R") {
				t.Errorf("case %s links %v", c.Ref, r)
			}
		}
	}
}
