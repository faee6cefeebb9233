package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// Risk levels of a case, lowest first.
const (
	RiskStandard = "standard"
	RiskMedium   = "medium"
	RiskHigh     = "high"
)

// RiskLevels lists the risk levels, lowest first.
var RiskLevels = []string{RiskStandard, RiskMedium, RiskHigh}

// Outcomes of a closed case.
const (
	OutcomeResolved    = "resolved"
	OutcomeNotResolved = "not_resolved"
	OutcomeWithdrawn   = "withdrawn" // the complainant withdrew
)

// Outcomes lists the outcomes of a closed case.
var Outcomes = []string{OutcomeResolved, OutcomeNotResolved, OutcomeWithdrawn}

// Ways a contact with the complainant is made.
const (
	ContactPhone  = "phone"
	ContactVisit  = "visit"
	ContactEmail  = "email"
	ContactLetter = "letter"
	ContactOther  = "other"
)

// ContactWays lists the ways a contact is made.
var ContactWays = []string{ContactPhone, ContactVisit, ContactEmail, ContactLetter, ContactOther}

// ReportRef names one report a case follows: its source and the source's own
// reference, as the incidents table keys it.
type ReportRef struct {
	Source string `json:"source"`
	Ref    string `json:"ref"`
}

// Action is one item of a case's action plan: what is to be done, who does it, by
// when, and when it was done.
type Action struct {
	Text   string    `json:"text"`  // free text: the owning partner's eyes only, never exported
	Owner  string    `json:"owner"` // a partner or a person
	Due    time.Time `json:"due"`   // a day, midnight UTC
	DoneAt time.Time `json:"done_at,omitzero"`
}

// Done reports whether the action was done.
func (a *Action) Done() bool { return !a.DoneAt.IsZero() }

// Contact is one contact with the complainant.
type Contact struct {
	At   time.Time `json:"at"`
	How  string    `json:"how"`  // one of ContactWays
	By   string    `json:"by"`   // who made it: a name or a role
	Note string    `json:"note"` // short free text: the owning partner's eyes only, never exported
}

// Closure is how and when a case ended.
type Closure struct {
	At      time.Time `json:"at"`
	Outcome string    `json:"outcome"` // one of Outcomes
	Reason  string    `json:"reason"`  // free text: the owning partner's eyes only, never exported
}

// Survey is the complainant's answer to the satisfaction survey after closure.
type Survey struct {
	At                time.Time `json:"at"` // the day it was taken
	SatisfiedOutcome  bool      `json:"satisfied_outcome"`
	SatisfiedHandling bool      `json:"satisfied_handling"`
	// Declined is true when the complainant was offered the survey and refused
	// it: the survey counts as offered (on time or not) and answers neither
	// satisfaction question, so it is in no satisfaction figure.
	Declined bool `json:"declined,omitempty"`
}

// Case follows one complainant's reports in one partner: who owns it and works it,
// how soon the complainant was contacted and kept in touch, the Victims' Code
// offer, the risk, the action plan, the closure and the survey. A complainant is
// known only by a pseudonymous victim key; no name is stored.
type Case struct {
	ID      int64  `json:"id,omitempty"`
	Partner string `json:"partner"` // the owning partner: one of the configured sources
	// Ref is the partner's own case reference; with Partner it identifies the case,
	// so a partner posting the same case twice updates it rather than adding one.
	Ref       string      `json:"ref"`
	VictimKey string      `json:"victim_key"` // the pseudonym of the complainant, as on their reports
	Reports   []ReportRef `json:"reports"`
	Officer   int64       `json:"officer,omitempty"` // the case officer's user id; 0 when not yet assigned

	OpenedAt       time.Time `json:"opened_at"`
	FirstContactAt time.Time `json:"first_contact_at,omitzero"`
	VictimsCodeAt  time.Time `json:"victims_code_at,omitzero"` // when the Victims' Code was offered

	Risk     string `json:"risk"`     // one of RiskLevels
	Referral bool   `json:"referral"` // referred on, to a multi-agency risk conference for example

	Actions  []Action  `json:"actions"`
	Contacts []Contact `json:"contacts"` // in time order
	Closure  *Closure  `json:"closure,omitempty"`
	Survey   *Survey   `json:"survey,omitempty"`

	// ErasedAt is when the complainant's free text (contact notes, action text,
	// the closure reason) was removed on their request; the dates and counts stay.
	ErasedAt time.Time `json:"erased_at,omitzero"`

	Version   int            `json:"version,omitempty"`
	CreatedAt time.Time      `json:"created_at,omitzero"`
	UpdatedAt time.Time      `json:"updated_at,omitzero"`
	History   []HistoryEntry `json:"history,omitempty"`
}

// Open reports whether the case is not closed.
func (c *Case) Open() bool { return c.Closure == nil }

// Closed reports whether the case is closed.
func (c *Case) Closed() bool { return c.Closure != nil }

// Outcome is the outcome of a closed case, "" while it is open.
func (c *Case) Outcome() string {
	if c.Closure == nil {
		return ""
	}
	return c.Closure.Outcome
}

// ContactTimes lists the moments of contact in time order: the first contact and
// every recorded contact, once each.
func (c *Case) ContactTimes() []time.Time {
	var out []time.Time
	if !c.FirstContactAt.IsZero() {
		out = append(out, c.FirstContactAt)
	}
	for _, x := range c.Contacts {
		if !x.At.IsZero() && !x.At.Equal(c.FirstContactAt) {
			out = append(out, x.At)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// LastContact is the moment of the latest contact; zero when there is none.
func (c *Case) LastContact() time.Time {
	t := c.ContactTimes()
	if len(t) == 0 {
		return time.Time{}
	}
	return t[len(t)-1]
}

// Clone returns a deep copy of the case.
func (c *Case) Clone() *Case {
	d := *c
	d.Reports = slices.Clone(c.Reports)
	d.Actions = slices.Clone(c.Actions)
	d.Contacts = slices.Clone(c.Contacts)
	d.History = slices.Clone(c.History)
	if c.Closure != nil {
		x := *c.Closure
		d.Closure = &x
	}
	if c.Survey != nil {
		x := *c.Survey
		d.Survey = &x
	}
	return &d
}

// Limits on a case, so that a record stays a record and free text stays short.
const (
	MaxRef      = 200  // a case or report reference
	MaxName     = 200  // an owner, who made a contact
	MaxNote     = 500  // a contact note
	MaxText     = 1000 // an action's text, a closure reason
	MaxReports  = 200
	MaxActions  = 100
	MaxContacts = 1000
)

// Rules are what a valid case is checked against.
type Rules struct {
	Partners []string  // the sources that may own a case; geo.DefaultSources when empty
	Sources  []string  // the sources a linked report may come from; geo.DefaultSources when empty
	Calendar *Calendar // whose zone says on which day a moment falls; UTC England and Wales when nil
}

func (r Rules) partners() []string {
	if len(r.Partners) == 0 {
		return geo.DefaultSources
	}
	return r.Partners
}

func (r Rules) sources() []string {
	if len(r.Sources) == 0 {
		return geo.DefaultSources
	}
	return r.Sources
}

func (r Rules) calendar() *Calendar {
	if r.Calendar == nil {
		return DefaultCalendar(time.UTC)
	}
	return r.Calendar
}

// earliest is the first day a case may have a date on.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// IsVictimKey reports whether s has the shape of a victim key: the 32 lowercase
// hexadecimal digits of geo.Pseudonym.
func IsVictimKey(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// Check returns an EINVALID error naming the field and the reason of the first
// problem with a case, nil when it is valid. Dates are compared as days in the
// calendar's zone, so that a day written without a time compares with a moment
// on the same day: nothing may fall on a day before the case was opened or after
// today; no contact, offer or action may fall after the closure; a survey needs a
// closure and falls on or after it; contacts need a first contact, which is the
// earliest of them.
func (r Rules) Check(c *Case, today time.Time) error {
	cal := r.calendar()
	today = geo.Day(today)
	day := cal.Day
	text := func(field, v string, max int, required, multiline bool) error {
		if required && strings.TrimSpace(v) == "" {
			return geo.Errorf(geo.EINVALID, "%s: required", field)
		}
		if msg := checkText(v, max, multiline); msg != "" {
			return geo.Errorf(geo.EINVALID, "%s: %s", field, msg)
		}
		return nil
	}
	// when checks a moment: set when required, not before the opening day (nor
	// before 2000), not after today.
	opened := day(c.OpenedAt)
	when := func(field string, t time.Time, required bool) error {
		switch {
		case t.IsZero() && required:
			return geo.Errorf(geo.EINVALID, "%s: required", field)
		case t.IsZero():
			return nil
		case day(t).Before(earliest):
			return geo.Errorf(geo.EINVALID, "%s: %s is before the year 2000", field, dayWords(day(t)))
		case day(t).After(today):
			return geo.Errorf(geo.EINVALID, "%s: %s is in the future (today is %s)", field, dayWords(day(t)), dayWords(today))
		case field != "opened_at" && day(t).Before(opened):
			return geo.Errorf(geo.EINVALID, "%s: %s is before the case was opened (%s)", field, dayWords(day(t)), dayWords(opened))
		}
		return nil
	}

	if !slices.Contains(r.partners(), c.Partner) {
		return geo.Errorf(geo.EINVALID, "partner: %q is not a partner (%s)", c.Partner, strings.Join(r.partners(), ", "))
	}
	if err := text("ref", c.Ref, MaxRef, true, false); err != nil {
		return err
	}
	if c.VictimKey == "" {
		return geo.Errorf(geo.EINVALID, "victim_key: required, the complainant's pseudonym")
	}
	if !IsVictimKey(c.VictimKey) {
		return geo.Errorf(geo.EINVALID, "victim_key: want the 32 hexadecimal digits of the complainant's pseudonym (a keyed hash of the partner's own reference), never a name")
	}
	if len(c.Reports) > MaxReports {
		return geo.Errorf(geo.EINVALID, "reports: at most %d linked reports", MaxReports)
	}
	seen := map[ReportRef]int{}
	for i, rr := range c.Reports {
		field := fmt.Sprintf("reports %d", i+1)
		if !slices.Contains(r.sources(), rr.Source) {
			return geo.Errorf(geo.EINVALID, "%s: source %q is not a source (%s)", field, rr.Source, strings.Join(r.sources(), ", "))
		}
		if err := text(field+" ref", rr.Ref, MaxRef, true, false); err != nil {
			return err
		}
		if j, dup := seen[rr]; dup {
			return geo.Errorf(geo.EINVALID, "%s: the same report as reports %d (%s %s)", field, j, rr.Source, rr.Ref)
		}
		seen[rr] = i + 1
	}
	if c.Officer < 0 {
		return geo.Errorf(geo.EINVALID, "officer: not a user id")
	}
	if !slices.Contains(RiskLevels, c.Risk) {
		return geo.Errorf(geo.EINVALID, "risk: %q is not standard, medium or high", c.Risk)
	}
	for _, f := range []struct {
		field    string
		t        time.Time
		required bool
	}{{"opened_at", c.OpenedAt, true}, {"first_contact_at", c.FirstContactAt, false}, {"victims_code_at", c.VictimsCodeAt, false}} {
		if err := when(f.field, f.t, f.required); err != nil {
			return err
		}
	}

	erased := !c.ErasedAt.IsZero()
	if len(c.Actions) > MaxActions {
		return geo.Errorf(geo.EINVALID, "actions: at most %d actions", MaxActions)
	}
	for i, a := range c.Actions {
		field := fmt.Sprintf("actions %d", i+1)
		if err := text(field+" text", a.Text, MaxText, !erased, true); err != nil {
			return err
		}
		if err := text(field+" owner", a.Owner, MaxName, true, false); err != nil {
			return err
		}
		if a.Due.IsZero() {
			return geo.Errorf(geo.EINVALID, "%s due: required, a day such as 2026-12-01", field)
		}
		if d := geo.Day(a.Due); d.Before(opened) {
			return geo.Errorf(geo.EINVALID, "%s due: %s is before the case was opened (%s)", field, dayWords(d), dayWords(opened))
		}
		if err := when(field+" done_at", a.DoneAt, false); err != nil {
			return err
		}
	}

	if len(c.Contacts) > MaxContacts {
		return geo.Errorf(geo.EINVALID, "contacts: at most %d contacts", MaxContacts)
	}
	if len(c.Contacts) > 0 && c.FirstContactAt.IsZero() {
		return geo.Errorf(geo.EINVALID, "first_contact_at: required when contacts are recorded (the first of them is on %s)", dayWords(day(c.Contacts[0].At)))
	}
	for i, x := range c.Contacts {
		field := fmt.Sprintf("contacts %d", i+1)
		if err := when(field+" at", x.At, true); err != nil {
			return err
		}
		if day(x.At).Before(day(c.FirstContactAt)) {
			return geo.Errorf(geo.EINVALID, "%s at: %s is before the first contact (%s); the first contact is the earliest",
				field, dayWords(day(x.At)), dayWords(day(c.FirstContactAt)))
		}
		if !slices.Contains(ContactWays, x.How) {
			return geo.Errorf(geo.EINVALID, "%s how: %q is not phone, visit, email, letter or other", field, x.How)
		}
		if err := text(field+" by", x.By, MaxName, true, false); err != nil {
			return err
		}
		if err := text(field+" note", x.Note, MaxNote, false, true); err != nil {
			return err
		}
	}

	if cl := c.Closure; cl != nil {
		if err := when("closure at", cl.At, true); err != nil {
			return err
		}
		closed := day(cl.At)
		if !slices.Contains(Outcomes, cl.Outcome) {
			return geo.Errorf(geo.EINVALID, "closure outcome: %q is not resolved, not_resolved or withdrawn", cl.Outcome)
		}
		if err := text("closure reason", cl.Reason, MaxText, !erased && cl.Outcome != OutcomeResolved, true); err != nil {
			if strings.HasSuffix(geo.ErrorMessage(err), "required") {
				return geo.Errorf(geo.EINVALID, "closure reason: required when the outcome is %s", outcomeWords[cl.Outcome])
			}
			return err
		}
		// Everything else happens by the day of closure; the closure names what it precedes.
		after := func(what string, t time.Time) error {
			if !t.IsZero() && day(t).After(closed) {
				return geo.Errorf(geo.EINVALID, "closure at: %s is before %s (%s); a case closes after its contacts, offer and actions",
					dayWords(closed), what, dayWords(day(t)))
			}
			return nil
		}
		if err := after("the first contact", c.FirstContactAt); err != nil {
			return err
		}
		if err := after("the Victims' Code offer", c.VictimsCodeAt); err != nil {
			return err
		}
		for i, x := range c.Contacts {
			if err := after(fmt.Sprintf("contacts %d", i+1), x.At); err != nil {
				return err
			}
		}
		for i, a := range c.Actions {
			if err := after(fmt.Sprintf("actions %d was done", i+1), a.DoneAt); err != nil {
				return err
			}
		}
	}
	if s := c.Survey; s != nil {
		if c.Closure == nil {
			return geo.Errorf(geo.EINVALID, "survey: a case is surveyed after it is closed, and this one is open")
		}
		if err := when("survey at", s.At, true); err != nil {
			return err
		}
		if s.Declined && (s.SatisfiedOutcome || s.SatisfiedHandling) {
			return geo.Errorf(geo.EINVALID, "survey: a declined survey has no answers")
		}
		if closed := day(c.Closure.At); day(s.At).Before(closed) {
			return geo.Errorf(geo.EINVALID, "survey at: %s is before the case was closed (%s)", dayWords(day(s.At)), dayWords(closed))
		}
	}
	if err := when("erased_at", c.ErasedAt, false); err != nil {
		return err
	}
	return nil
}

var outcomeWords = map[string]string{OutcomeResolved: "resolved", OutcomeNotResolved: "not resolved", OutcomeWithdrawn: "withdrawn"}

// Filter selects stored cases; zero fields match all.
type Filter struct {
	Partners []string // owned by one of these partners
	Officer  int64    // worked by this user
	// OrUnassigned adds, to an Officer's cases, the cases no officer works yet.
	OrUnassigned bool
	Open         bool // not closed
	VictimKey    string
	// Areas, when not empty, keeps the cases following a report that lies in
	// one of these areas (codes): a police team scoped to areas.
	Areas []string
	ID    int64 // this case only, when not 0
	Limit int   // 10,000 when 0
}
