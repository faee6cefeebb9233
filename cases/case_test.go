package cases

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London without relying on the machine's zone files

	"github.com/tensionmap/tensionmap/geo"
)

func london(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		tb.Fatalf("loading Europe/London: %v", err)
	}
	return loc
}

// at is a moment in London.
func at(tb testing.TB, y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, london(tb))
}

const victimKey = "0123456789abcdef0123456789abcdef"

// goodCase is a closed and surveyed case opened on Friday 30 December 2022.
func goodCase(tb testing.TB) *Case {
	return &Case{Partner: "council", Ref: "ASB-2022-0042", VictimKey: victimKey,
		Reports: []ReportRef{{"police", "HC/22/1001"}, {"third_party", "TP-77"}}, Officer: 7,
		OpenedAt: at(tb, 2022, 12, 30, 10, 0), FirstContactAt: at(tb, 2023, 1, 3, 9, 30), VictimsCodeAt: at(tb, 2023, 1, 3, 9, 30),
		Risk:     RiskMedium,
		Actions:  []Action{{Text: "Fit a door alarm", Owner: "Housing", Due: day(2023, 1, 13), DoneAt: at(tb, 2023, 1, 12, 15, 0)}},
		Contacts: []Contact{{At: at(tb, 2023, 1, 3, 9, 30), How: ContactPhone, By: "PC Jones", Note: "Agreed the plan."}, {At: at(tb, 2023, 1, 16, 11, 0), How: ContactVisit, By: "PC Jones"}},
		Closure:  &Closure{At: at(tb, 2023, 2, 3, 16, 0), Outcome: OutcomeResolved},
		Survey:   &Survey{At: at(tb, 2023, 2, 20, 10, 0), SatisfiedOutcome: true, SatisfiedHandling: false}}
}

func TestCaseCheck(t *testing.T) {
	rules := Rules{Calendar: DefaultCalendar(london(t))}
	today := day(2023, 3, 1)
	if err := rules.Check(goodCase(t), today); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, field string // the error's field, the start of its message
		mod         func(c *Case)
	}{
		{"unknown partner", "partner", func(c *Case) { c.Partner = "school" }},
		{"no reference", "ref", func(c *Case) { c.Ref = "  " }},
		{"reference with a line break", "ref", func(c *Case) { c.Ref = "A\nB" }},
		{"no victim key", "victim_key", func(c *Case) { c.VictimKey = "" }},
		{"a name for a victim key", "victim_key", func(c *Case) { c.VictimKey = "Jane Smith" }},
		{"upper-case victim key", "victim_key", func(c *Case) { c.VictimKey = strings.ToUpper(victimKey) }},
		{"report from an unknown source", "reports 1", func(c *Case) { c.Reports[0].Source = "school" }},
		{"report without reference", "reports 2 ref", func(c *Case) { c.Reports[1].Ref = "" }},
		{"the same report twice", "reports 2", func(c *Case) { c.Reports[1] = c.Reports[0] }},
		{"negative officer", "officer", func(c *Case) { c.Officer = -1 }},
		{"unknown risk", "risk", func(c *Case) { c.Risk = "severe" }},
		{"no opening", "opened_at", func(c *Case) { c.OpenedAt = time.Time{} }},
		{"opened in the future", "opened_at", func(c *Case) { c.OpenedAt = at(t, 2023, 3, 2, 9, 0) }},
		{"opened last century", "opened_at", func(c *Case) { c.OpenedAt = at(t, 1999, 12, 31, 9, 0) }},
		{"first contact before opening", "first_contact_at", func(c *Case) { c.FirstContactAt = at(t, 2022, 12, 29, 9, 0) }},
		{"Victims' Code offered in the future", "victims_code_at", func(c *Case) { c.VictimsCodeAt = at(t, 2023, 3, 5, 9, 0) }},
		{"action without text", "actions 1 text", func(c *Case) { c.Actions[0].Text = "" }},
		{"action without owner", "actions 1 owner", func(c *Case) { c.Actions[0].Owner = "" }},
		{"action without a due day", "actions 1 due", func(c *Case) { c.Actions[0].Due = time.Time{} }},
		{"action due before opening", "actions 1 due", func(c *Case) { c.Actions[0].Due = day(2022, 12, 1) }},
		{"action done in the future", "actions 1 done_at", func(c *Case) { c.Actions[0].DoneAt = at(t, 2023, 4, 1, 9, 0) }},
		{"contacts without a first contact", "first_contact_at", func(c *Case) { c.FirstContactAt = time.Time{} }},
		{"contact before the first contact", "contacts 2 at", func(c *Case) { c.Contacts[1].At = at(t, 2023, 1, 2, 9, 0) }},
		{"contact by fax", "contacts 1 how", func(c *Case) { c.Contacts[0].How = "fax" }},
		{"contact by nobody", "contacts 1 by", func(c *Case) { c.Contacts[0].By = "" }},
		{"long contact note", "contacts 1 note", func(c *Case) { c.Contacts[0].Note = strings.Repeat("x", MaxNote+1) }},
		{"closure before a contact", "closure at", func(c *Case) { c.Closure.At = at(t, 2023, 1, 10, 9, 0) }},
		{"closure before the first contact", "closure at", func(c *Case) {
			c.Contacts = nil
			c.Closure.At = at(t, 2023, 1, 2, 9, 0)
		}},
		{"Victims' Code offered after closure", "closure at", func(c *Case) { c.VictimsCodeAt = at(t, 2023, 2, 6, 9, 0) }},
		{"action done after closure", "closure at", func(c *Case) { c.Actions[0].DoneAt = at(t, 2023, 2, 6, 9, 0) }},
		{"unknown outcome", "closure outcome", func(c *Case) { c.Closure.Outcome = "won" }},
		{"not resolved without a reason", "closure reason", func(c *Case) { c.Closure.Outcome = OutcomeNotResolved }},
		{"survey of an open case", "survey", func(c *Case) { c.Closure = nil }},
		{"survey before closure", "survey at", func(c *Case) { c.Survey.At = at(t, 2023, 2, 2, 9, 0) }},
		{"survey in the future", "survey at", func(c *Case) { c.Survey.At = at(t, 2023, 3, 2, 9, 0) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := goodCase(t)
			tt.mod(c)
			err := rules.Check(c, today)
			if geo.ErrorCode(err) != geo.EINVALID || !strings.HasPrefix(geo.ErrorMessage(err), tt.field+":") {
				t.Errorf("got %v, want an invalid-input error on %s", err, tt.field)
			}
		})
	}
	// Days, not moments: a first contact at 08:00 on the day a case was opened at
	// 10:00 is in order (a day written without a time compares the same way).
	c := goodCase(t)
	c.FirstContactAt, c.Contacts[0].At = at(t, 2022, 12, 30, 8, 0), at(t, 2022, 12, 30, 8, 0)
	if err := rules.Check(c, today); err != nil {
		t.Errorf("first contact earlier on the day of opening: %v", err)
	}
	// The messages say what is wrong in words.
	c = goodCase(t)
	c.Closure.At = at(t, 2023, 1, 10, 9, 0)
	if got, want := geo.ErrorMessage(rules.Check(c, today)), "closure at: Tue 10 Jan 2023 is before contacts 2 (Mon 16 Jan 2023); a case closes after its contacts, offer and actions"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c = goodCase(t)
	c.VictimKey = "Jane Smith"
	if got := geo.ErrorMessage(rules.Check(c, today)); !strings.Contains(got, "never a name") {
		t.Errorf("victim key: got %q", got)
	}
	// An erased case keeps its dates without its text.
	c = goodCase(t)
	c.Closure.Outcome, c.Closure.Reason = OutcomeWithdrawn, "Moved away."
	e := Erase(c, "user:admin", at(t, 2023, 2, 25, 9, 0))
	if c.Actions[0].Text != "" || c.Contacts[0].Note != "" || c.Closure.Reason != "" || e.Changes["texts"] != 3 {
		t.Errorf("erase left %+v, %+v", c, e)
	}
	if err := rules.Check(c, today); err != nil {
		t.Errorf("erased case: %v", err)
	}
}

// TestCaseHistory works a case through every change and reads its history.
func TestCaseHistory(t *testing.T) {
	loc := london(t)
	rules := Rules{Calendar: DefaultCalendar(loc)}
	c := &Case{Partner: "council", Ref: "ASB-2022-0042", VictimKey: victimKey, Reports: []ReportRef{{"police", "HC/22/1001"}},
		OpenedAt: at(t, 2022, 12, 30, 10, 0), Risk: RiskStandard, Officer: 7}
	var h []HistoryEntry
	step := func(e HistoryEntry, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		h = append(h, e)
	}
	step(rules.Open(c, "user:jsmith", at(t, 2022, 12, 30, 10, 0)))
	step(rules.AddContact(c, Contact{At: at(t, 2023, 1, 3, 9, 30), How: ContactPhone, By: "PC Jones", Note: "Agreed the plan."}, "user:jsmith", at(t, 2023, 1, 3, 9, 45)))
	u := c.Clone()
	u.VictimsCodeAt, u.Risk, u.Referral, u.Officer = at(t, 2023, 1, 3, 9, 30), RiskHigh, true, 9
	u.Reports = append(u.Reports, ReportRef{"third_party", "TP-77"})
	step(rules.Edit(c, u, "user:jsmith", at(t, 2023, 1, 3, 10, 0)))
	step(rules.AddAction(c, Action{Text: "Fit a door alarm", Owner: "Housing", Due: day(2023, 1, 13)}, "user:jsmith", at(t, 2023, 1, 3, 10, 5)))
	step(rules.SetActionDone(c, 1, at(t, 2023, 1, 12, 15, 0), "user:jsmith", at(t, 2023, 1, 12, 15, 5)))
	step(rules.AddContact(c, Contact{At: at(t, 2023, 1, 16, 11, 0), How: ContactVisit, By: "PC Jones"}, "user:jsmith", at(t, 2023, 1, 16, 12, 0)))
	step(rules.Close(c, Closure{At: at(t, 2023, 2, 3, 16, 0), Outcome: OutcomeResolved}, "user:jsmith", at(t, 2023, 2, 3, 16, 0)))
	step(rules.RecordSurvey(c, Survey{At: day(2023, 2, 20), SatisfiedOutcome: true}, "user:jsmith", at(t, 2023, 2, 20, 11, 0)))
	step(Erase(c, "user:admin", at(t, 2023, 3, 1, 9, 0)), nil)

	// Refused changes leave the case as it was.
	before, _ := json.Marshal(c)
	if _, err := rules.Reopen(c, "user:jsmith", at(t, 2023, 3, 1, 9, 0)); geo.ErrorCode(err) != geo.ECONFLICT {
		t.Errorf("reopening a surveyed case: got %v, want a conflict", err)
	}
	if _, err := rules.Close(c, Closure{At: at(t, 2023, 3, 1, 9, 0), Outcome: OutcomeResolved}, "user:jsmith", at(t, 2023, 3, 1, 9, 0)); geo.ErrorCode(err) != geo.ECONFLICT {
		t.Errorf("closing a closed case: got %v, want a conflict", err)
	}
	if _, err := rules.AddContact(c, Contact{At: at(t, 2023, 2, 10, 9, 0), How: ContactPhone, By: "PC Jones"}, "user:jsmith", at(t, 2023, 3, 1, 9, 0)); geo.ErrorCode(err) != geo.EINVALID {
		t.Errorf("a contact after closure: got %v, want invalid", err)
	}
	if _, err := rules.SetActionDone(c, 2, at(t, 2023, 3, 1, 9, 0), "user:jsmith", at(t, 2023, 3, 1, 9, 0)); geo.ErrorCode(err) != geo.ENOTFOUND {
		t.Errorf("no action 2: got %v", err)
	}
	if after, _ := json.Marshal(c); string(after) != string(before) {
		t.Errorf("a refused change altered the case:\n%s\n%s", before, after)
	}

	want := []string{
		"Opened the case, council reference “ASB-2022-0042”, standard risk, following 1 report, case officer J Smith.",
		"Recorded a phone call by PC Jones on Tue 3 Jan 2023 at 09:30, the first contact.",
		"Passed the case from J Smith to user 9, changed the risk from standard to high, recorded a referral, set the Victims' Code offer to Tue 3 Jan 2023 at 09:30 and linked 1 report.",
		"Added action 1 to the plan, owner Housing, due by Fri 13 Jan 2023.",
		"Marked action 1 done on Thu 12 Jan 2023 at 15:00.",
		"Recorded a visit by PC Jones on Mon 16 Jan 2023 at 11:00.",
		"Closed the case on Fri 3 Feb 2023 at 16:00: resolved.",
		"Recorded the satisfaction survey of Mon 20 Feb 2023: satisfied with the outcome, not satisfied with the handling.",
		"Erased the complainant’s free text on their request (2 texts removed).",
	}
	w := Words{Location: loc, UserName: func(id int64) string { return map[int64]string{7: "J Smith"}[id] }}
	// The history reads the same after a JSON round trip, as it comes back from storage.
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back []HistoryEntry
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got := h[i].Sentence(w); got != want[i] {
			t.Errorf("entry %d: got %q, want %q", i+1, got, want[i])
		}
		if got := back[i].Sentence(w); got != want[i] {
			t.Errorf("entry %d after JSON: got %q, want %q", i+1, got, want[i])
		}
	}
	// No free text reaches the history.
	for _, s := range []string{"Agreed the plan", "Fit a door alarm"} {
		if strings.Contains(string(js), s) {
			t.Errorf("the history holds %q", s)
		}
	}

	// An open case reopens after closure without a survey; the first contact
	// moves to a contact recorded earlier than it.
	c = goodCase(t)
	c.Survey = nil
	e, err := rules.Reopen(c, "user:jsmith", at(t, 2023, 3, 1, 9, 0))
	if err != nil || c.Closed() {
		t.Fatalf("reopen: %v", err)
	}
	if got := e.Sentence(w); got != "Reopened the case, closed on Fri 3 Feb 2023 at 16:00 as resolved." {
		t.Errorf("reopen: got %q", got)
	}
	e, err = rules.AddContact(c, Contact{At: at(t, 2022, 12, 31, 12, 0), How: ContactEmail, By: "PC Jones"}, "user:jsmith", at(t, 2023, 3, 1, 9, 0))
	if err != nil || !c.FirstContactAt.Equal(at(t, 2022, 12, 31, 12, 0)) || !c.Contacts[0].At.Equal(c.FirstContactAt) {
		t.Fatalf("an earlier contact: %v; first contact %v, contacts %v", err, c.FirstContactAt, c.Contacts)
	}
	if got := e.Sentence(w); got != "Recorded an email by PC Jones on Sat 31 Dec 2022 at 12:00, the first contact." {
		t.Errorf("earlier contact: got %q", got)
	}
	if got := len(c.ContactTimes()); got != 3 {
		t.Errorf("contact times: got %d, want 3", got)
	}
}

// TestDue follows one case through its life and reads the worklist on days
// counted by hand.
func TestDue(t *testing.T) {
	cal := DefaultCalendar(london(t))
	std := DefaultStandards()
	c := &Case{Partner: "council", Ref: "ASB-1", VictimKey: victimKey, OpenedAt: at(t, 2022, 12, 30, 10, 0), Risk: RiskStandard}
	texts := func(items []DueItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Text)
		}
		return out
	}
	check := func(name string, today time.Time, want ...string) {
		t.Helper()
		got := texts(std.Due(cal, c, today))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: got\n  %s\nwant\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	// Opened on Friday 30 December 2022: Mon 2 Jan is the New Year holiday, so
	// the one working day runs out on Tue 3 Jan.
	check("the day of opening", day(2022, 12, 30), "First contact due by Tue 3 Jan 2023 (1 working day after the case was opened)")
	check("the day it is due", day(2023, 1, 3), "First contact due by Tue 3 Jan 2023 (1 working day after the case was opened)")
	check("the day after", day(2023, 1, 4), "First contact overdue: it was due by Tue 3 Jan 2023 (1 working day after the case was opened)")
	items := std.Due(cal, c, day(2023, 1, 4))
	if len(items) != 1 || items[0].Kind != DueFirstContact || !items[0].Overdue || !items[0].Due.Equal(day(2023, 1, 3)) {
		t.Errorf("items: %+v", items)
	}

	// First contact on Wed 4 Jan, no Victims' Code offer, an action due Fri 13 Jan.
	c.FirstContactAt = at(t, 2023, 1, 4, 14, 0)
	c.Contacts = []Contact{{At: c.FirstContactAt, How: ContactPhone, By: "PC Jones"}}
	c.Actions = []Action{{Text: "Fit a door alarm", Owner: "Housing", Due: day(2023, 1, 13)}, {Text: "Done already", Owner: "Police", Due: day(2023, 1, 5), DoneAt: at(t, 2023, 1, 5, 9, 0)}}
	// Ten working days after Wed 4 Jan: 5 6, 9 10 11 12 13, 16 17 18.
	check("a fortnight on", day(2023, 1, 16),
		"Offer of the Victims' Code overdue: it was due by Wed 4 Jan 2023 (at the first contact)",
		"Action 1, “Fit a door alarm”, owned by Housing, overdue: it was due by Fri 13 Jan 2023",
		"Next contact due by Wed 18 Jan 2023 (10 working days after the last contact, on Wed 4 Jan 2023)")
	c.VictimsCodeAt = c.FirstContactAt
	c.Actions[0].DoneAt = at(t, 2023, 1, 13, 9, 0)
	check("on Thursday 19 January", day(2023, 1, 19), "Next contact overdue: it was due by Wed 18 Jan 2023 (10 working days after the last contact, on Wed 4 Jan 2023)")

	// Over Easter 2023: a contact on Thu 6 April; Good Friday and Easter Monday
	// push ten working days to Mon 24 April (11 12 13 14, 17 18 19 20 21, 24).
	c.Contacts = append(c.Contacts, Contact{At: at(t, 2023, 4, 6, 10, 0), How: ContactVisit, By: "PC Jones"})
	check("after Easter", day(2023, 4, 20), "Next contact due by Mon 24 Apr 2023 (10 working days after the last contact, on Thu 6 Apr 2023)")

	// Closed on Fri 5 May 2023 with no survey: six weeks is Fri 16 June.
	c.Closure = &Closure{At: at(t, 2023, 5, 5, 16, 0), Outcome: OutcomeResolved}
	check("closed", day(2023, 6, 16), "Satisfaction survey due by Fri 16 Jun 2023 (6 weeks after the case was closed, on Fri 5 May 2023)")
	check("survey late", day(2023, 6, 17), "Satisfaction survey overdue: it was due by Fri 16 Jun 2023 (6 weeks after the case was closed, on Fri 5 May 2023)")
	// Twelve weeks after closure (Fri 28 July) the survey is still owed; the day
	// after, it is missed and leaves the worklist.
	check("survey still owed", day(2023, 7, 28), "Satisfaction survey overdue: it was due by Fri 16 Jun 2023 (6 weeks after the case was closed, on Fri 5 May 2023)")
	check("survey missed", day(2023, 7, 29))
	c.Survey = &Survey{At: day(2023, 6, 20)}
	check("surveyed", day(2023, 6, 21))

	// Opened on Maundy Thursday 2023: the first contact is due on the Tuesday after Easter.
	e := &Case{Partner: "police", Ref: "HC-2", VictimKey: victimKey, OpenedAt: at(t, 2023, 4, 6, 17, 0), Risk: RiskHigh}
	if got := std.Due(cal, e, day(2023, 4, 6)); len(got) != 1 || got[0].Text != "First contact due by Tue 11 Apr 2023 (1 working day after the case was opened)" {
		t.Errorf("Easter opening: %v", texts(got))
	}
}
