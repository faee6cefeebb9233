package cases

import (
	"fmt"
	"slices"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// Standards are the partnership's service standards for cases, in working days
// and calendar weeks, and the targets its figures are measured against.
type Standards struct {
	FirstContactDays int // first contact within this many working days of opening (1)
	ContactEveryDays int // then a contact at least every this many working days while open (10)
	SurveyWeeks      int // the satisfaction survey within this many weeks of closure (6)
	// SurveyOwedWeeks is how long after closure a survey not taken stays on the
	// worklist (12: twice the standard); after it the survey is missed, counted as
	// not done in the figures, and no longer asked of the case officer.
	SurveyOwedWeeks int
	Targets         Targets
}

// DefaultStandards are the standards of a typical hate crime strategy: first
// contact within one working day, contact every ten working days, the survey
// within six weeks of closure, and the default targets.
func DefaultStandards() Standards {
	return Standards{FirstContactDays: 1, ContactEveryDays: 10, SurveyWeeks: 6, SurveyOwedWeeks: 12, Targets: DefaultTargets()}
}

// FirstContactDue is the last day on which the first contact meets the standard:
// FirstContactDays working days after the day the case was opened.
func (s Standards) FirstContactDue(cal *Calendar, c *Case) time.Time {
	return cal.AddWorkingDays(cal.Day(c.OpenedAt), s.FirstContactDays)
}

// NextContactDue is the last day on which the next contact after a day meets the
// standard: ContactEveryDays working days after it.
func (s Standards) NextContactDue(cal *Calendar, last time.Time) time.Time {
	return cal.AddWorkingDays(last, s.ContactEveryDays)
}

// SurveyDue is the last day on which the survey of a closed case meets the
// standard: SurveyWeeks weeks (calendar days, not working days) after the day of
// closure. Zero for an open case.
func (s Standards) SurveyDue(cal *Calendar, c *Case) time.Time {
	if c.Closure == nil {
		return time.Time{}
	}
	return cal.Day(c.Closure.At).AddDate(0, 0, 7*s.SurveyWeeks)
}

// Kinds of item due on a case.
const (
	DueFirstContact = "first_contact"
	DueContact      = "contact"
	DueVictimsCode  = "victims_code"
	DueAction       = "action"
	DueSurvey       = "survey"
)

// DueItem is one thing a case officer owes on a case, by a day.
type DueItem struct {
	Kind    string    `json:"kind"`
	Due     time.Time `json:"due"`              // the last day it is on time, midnight UTC
	Overdue bool      `json:"overdue"`          // today is after Due
	Action  int       `json:"action,omitempty"` // the action's number (from 1), for DueAction
	Text    string    `json:"text"`             // the item in words: "First contact due by Tue 3 Jan 2023 (...)"
}

// Due lists what is owed on a case on a day, earliest due first:
//
//   - an open case with no first contact: the first contact, due FirstContactDays
//     working days after the day it was opened;
//   - an open case with a first contact: the next contact, due ContactEveryDays
//     working days after the day of the latest contact;
//   - an open case with a first contact and no Victims' Code offer: the offer, due
//     on the day of the first contact (and so overdue from the day after it);
//   - an open case's actions not done, each due on its day;
//   - a closed case with no survey: the survey, due SurveyWeeks weeks after the
//     day of closure, until SurveyOwedWeeks weeks after it (then it is missed, and
//     a worklist no longer carries years of surveys nobody will take).
//
// Today is a day, its date as written. An item is overdue when today is after its
// due day; one due today is not yet.
// Action text appears in the item's words, so the list is for the owning
// partner's eyes.
func (s Standards) Due(cal *Calendar, c *Case, today time.Time) []DueItem {
	today = geo.Day(today)
	var out []DueItem
	item := func(kind string, due time.Time, action int, what, why string) {
		it := DueItem{Kind: kind, Due: due, Overdue: today.After(due), Action: action}
		if it.Overdue {
			it.Text = fmt.Sprintf("%s overdue: it was due by %s", what, dayWords(due))
		} else {
			it.Text = fmt.Sprintf("%s due by %s", what, dayWords(due))
		}
		if why != "" {
			it.Text += " (" + why + ")"
		}
		out = append(out, it)
	}
	if c.Open() {
		if c.FirstContactAt.IsZero() {
			item(DueFirstContact, s.FirstContactDue(cal, c), 0, "First contact",
				count(s.FirstContactDays, "working day", "working days")+" after the case was opened")
		} else {
			last := cal.Day(c.LastContact())
			item(DueContact, s.NextContactDue(cal, last), 0, "Next contact",
				count(s.ContactEveryDays, "working day", "working days")+" after the last contact, on "+dayWords(last))
		}
	}
	if c.Open() && !c.FirstContactAt.IsZero() && c.VictimsCodeAt.IsZero() {
		item(DueVictimsCode, cal.Day(c.FirstContactAt), 0, "Offer of the Victims' Code", "at the first contact")
	}
	if c.Open() {
		for i, a := range c.Actions {
			if a.Done() {
				continue
			}
			what := fmt.Sprintf("Action %d", i+1)
			if a.Text != "" {
				what += ", “" + shorten(a.Text, 80) + "”"
			}
			what += ", owned by " + a.Owner + ","
			item(DueAction, dayOfEpoch(epochDay(a.Due)), i+1, what, "")
		}
	}
	if c.Closed() && c.Survey == nil && (s.SurveyOwedWeeks <= 0 || !today.After(cal.Day(c.Closure.At).AddDate(0, 0, 7*s.SurveyOwedWeeks))) {
		item(DueSurvey, s.SurveyDue(cal, c), 0, "Satisfaction survey",
			count(s.SurveyWeeks, "week", "weeks")+" after the case was closed, on "+dayWords(cal.Day(c.Closure.At)))
	}
	slices.SortStableFunc(out, func(a, b DueItem) int { return a.Due.Compare(b.Due) })
	return out
}

// shorten cuts a text at n characters, ending it with an ellipsis when cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
