package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// HistoryEntry is one change of a case: who, when, what. Changes hold values a
// JSON round trip keeps (text, numbers, booleans, lists of text) and never the
// complainant's free text (contact notes, action text, the closure reason), so
// the history survives an erasure whole and may be shown wherever the case is.
type HistoryEntry struct {
	At      time.Time      `json:"at"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Changes map[string]any `json:"changes,omitempty"`
}

// History actions.
const (
	ActOpened         = "opened"
	ActEdited         = "edited"
	ActContactAdded   = "contact_added"
	ActActionAdded    = "action_added"
	ActActionDone     = "action_done"
	ActActionUndone   = "action_undone"
	ActClosed         = "closed"
	ActReopened       = "reopened"
	ActSurveyRecorded = "survey_recorded"
	ActErased         = "erased"
)

// Each change below works on a copy of the case, checks the result with the
// rules as of now, and only then writes it back, so a refused change leaves the
// case as it was. Each returns the history entry to record (the caller appends
// it and stores both together).

// Open checks a new case and returns its first history entry.
func (r Rules) Open(c *Case, actor string, now time.Time) (HistoryEntry, error) {
	if err := r.Check(c, r.calendar().Day(now)); err != nil {
		return HistoryEntry{}, err
	}
	ch := map[string]any{"partner": c.Partner, "ref": c.Ref, "risk": c.Risk, "referral": c.Referral, "reports": len(c.Reports)}
	if c.Officer != 0 {
		ch["officer"] = c.Officer
	}
	return HistoryEntry{At: now, Actor: actor, Action: ActOpened, Changes: ch}, nil
}

// EditableFields are the fields of a case a person edits after opening it, as
// the history names them. The partner, its reference and the victim key say whose
// case it is and do not change.
var EditableFields = []string{"officer", "risk", "referral", "opened_at", "first_contact_at", "victims_code_at", "reports"}

// Changes lists, field by field, what differs in the editable fields of two
// versions of a case: {"field": {"from": old, "to": new}}. Moments are written
// in RFC 3339, "" for none; reports as "source ref".
func Changes(old, updated *Case) map[string]any {
	out := map[string]any{}
	add := func(field string, from, to any, same bool) {
		if !same {
			out[field] = map[string]any{"from": from, "to": to}
		}
	}
	add("officer", old.Officer, updated.Officer, old.Officer == updated.Officer)
	add("risk", old.Risk, updated.Risk, old.Risk == updated.Risk)
	add("referral", old.Referral, updated.Referral, old.Referral == updated.Referral)
	add("opened_at", moment(old.OpenedAt), moment(updated.OpenedAt), old.OpenedAt.Equal(updated.OpenedAt))
	add("first_contact_at", moment(old.FirstContactAt), moment(updated.FirstContactAt), old.FirstContactAt.Equal(updated.FirstContactAt))
	add("victims_code_at", moment(old.VictimsCodeAt), moment(updated.VictimsCodeAt), old.VictimsCodeAt.Equal(updated.VictimsCodeAt))
	add("reports", refStrings(old.Reports), refStrings(updated.Reports), slices.Equal(old.Reports, updated.Reports))
	return out
}

// Edit sets the editable fields of c to those of updated and returns the entry
// naming what changed; its Changes are empty when nothing did.
func (r Rules) Edit(c, updated *Case, actor string, now time.Time) (HistoryEntry, error) {
	next := c.Clone()
	next.Officer, next.Risk, next.Referral = updated.Officer, updated.Risk, updated.Referral
	next.OpenedAt, next.FirstContactAt, next.VictimsCodeAt = updated.OpenedAt, updated.FirstContactAt, updated.VictimsCodeAt
	next.Reports = slices.Clone(updated.Reports)
	return r.commit(c, next, now, HistoryEntry{At: now, Actor: actor, Action: ActEdited, Changes: Changes(c, next)})
}

// AddContact records a contact, in time order. The first contact recorded, or
// one earlier than the first contact, becomes the first contact.
func (r Rules) AddContact(c *Case, x Contact, actor string, now time.Time) (HistoryEntry, error) {
	next := c.Clone()
	x.How, x.By, x.Note = strings.TrimSpace(x.How), strings.TrimSpace(x.By), strings.TrimSpace(x.Note)
	i, _ := slices.BinarySearchFunc(next.Contacts, x.At, func(a Contact, t time.Time) int {
		if a.At.After(t) {
			return 1
		}
		return -1 // after every contact at the same moment
	})
	next.Contacts = slices.Insert(next.Contacts, i, x)
	ch := map[string]any{"at": moment(x.At), "how": x.How, "by": x.By}
	if next.FirstContactAt.IsZero() || x.At.Before(next.FirstContactAt) {
		next.FirstContactAt = x.At
		ch["first"] = true
	}
	return r.commit(c, next, now, HistoryEntry{At: now, Actor: actor, Action: ActContactAdded, Changes: ch})
}

// AddAction adds an item to the action plan.
func (r Rules) AddAction(c *Case, a Action, actor string, now time.Time) (HistoryEntry, error) {
	if c.Closed() {
		return HistoryEntry{}, geo.Errorf(geo.ECONFLICT, "the case is closed; reopen it to add to its action plan")
	}
	next := c.Clone()
	a.Text, a.Owner, a.Due = strings.TrimSpace(a.Text), strings.TrimSpace(a.Owner), geo.Day(a.Due)
	next.Actions = append(next.Actions, a)
	ch := map[string]any{"number": len(next.Actions), "owner": a.Owner, "due": a.Due.Format(time.DateOnly)}
	if a.Done() {
		ch["done_at"] = moment(a.DoneAt)
	}
	return r.commit(c, next, now, HistoryEntry{At: now, Actor: actor, Action: ActActionAdded, Changes: ch})
}

// SetActionDone marks action number n (from 1) done at a moment, or not done
// when at is zero.
func (r Rules) SetActionDone(c *Case, n int, at time.Time, actor string, now time.Time) (HistoryEntry, error) {
	if n < 1 || n > len(c.Actions) {
		return HistoryEntry{}, geo.Errorf(geo.ENOTFOUND, "the case has no action %d", n)
	}
	next := c.Clone()
	next.Actions[n-1].DoneAt = at
	e := HistoryEntry{At: now, Actor: actor, Action: ActActionDone, Changes: map[string]any{"number": n, "done_at": moment(at)}}
	if at.IsZero() {
		e = HistoryEntry{At: now, Actor: actor, Action: ActActionUndone, Changes: map[string]any{"number": n}}
	}
	return r.commit(c, next, now, e)
}

// Close closes an open case with its outcome; ECONFLICT when it is closed.
func (r Rules) Close(c *Case, cl Closure, actor string, now time.Time) (HistoryEntry, error) {
	if c.Closed() {
		return HistoryEntry{}, geo.Errorf(geo.ECONFLICT, "the case is already closed (on %s)", dayWords(r.calendar().Day(c.Closure.At)))
	}
	next := c.Clone()
	cl.Reason = strings.TrimSpace(cl.Reason)
	next.Closure = &cl
	return r.commit(c, next, now, HistoryEntry{At: now, Actor: actor, Action: ActClosed,
		Changes: map[string]any{"at": moment(cl.At), "outcome": cl.Outcome}})
}

// Reopen opens a closed case again; ECONFLICT when it is open or surveyed (the
// survey answered for the closure: a new matter is a new case).
func (r Rules) Reopen(c *Case, actor string, now time.Time) (HistoryEntry, error) {
	switch {
	case c.Open():
		return HistoryEntry{}, geo.Errorf(geo.ECONFLICT, "the case is open")
	case c.Survey != nil:
		return HistoryEntry{}, geo.Errorf(geo.ECONFLICT, "the complainant was surveyed after the closure; open a new case instead")
	}
	next := c.Clone()
	next.Closure = nil
	return r.commit(c, next, now, HistoryEntry{At: now, Actor: actor, Action: ActReopened,
		Changes: map[string]any{"outcome": c.Closure.Outcome, "closed_at": moment(c.Closure.At)}})
}

// RecordSurvey records the satisfaction survey of a closed case, or corrects it.
func (r Rules) RecordSurvey(c *Case, s Survey, actor string, now time.Time) (HistoryEntry, error) {
	if c.Open() {
		return HistoryEntry{}, geo.Errorf(geo.ECONFLICT, "the case is open; the survey follows its closure")
	}
	next := c.Clone()
	next.Survey = &s
	return r.commit(c, next, now, HistoryEntry{At: now, Actor: actor, Action: ActSurveyRecorded,
		Changes: map[string]any{"at": moment(s.At), "satisfied_outcome": s.SatisfiedOutcome, "satisfied_handling": s.SatisfiedHandling,
			"declined": s.Declined}})
}

// Erase removes the complainant's free text from a case, on their request: every
// contact note, every action's text and the closure reason. Dates, ways of
// contact, owners, outcomes and survey answers stay, so every count stays. It
// returns the entry to record, which holds no text either.
func Erase(c *Case, actor string, now time.Time) HistoryEntry {
	e, _ := EraseCase(c, actor, now)
	return e
}

// EraseCase is Erase that also says what it removed.
func EraseCase(c *Case, actor string, now time.Time) (HistoryEntry, Erased) {
	x := Erased{ID: c.ID, Partner: c.Partner, Ref: c.Ref}
	for i := range c.Contacts {
		if c.Contacts[i].Note != "" {
			c.Contacts[i].Note = ""
			x.Notes++
		}
	}
	for i := range c.Actions {
		if c.Actions[i].Text != "" {
			c.Actions[i].Text = ""
			x.Actions++
		}
	}
	if c.Closure != nil && c.Closure.Reason != "" {
		c.Closure.Reason = ""
		x.Reason = true
	}
	c.ErasedAt = now
	return HistoryEntry{At: now, Actor: actor, Action: ActErased, Changes: map[string]any{"texts": x.Texts()}}, x
}

// Erased says what an erasure removed from one case.
type Erased struct {
	ID      int64  `json:"id"`
	Partner string `json:"partner"`
	Ref     string `json:"ref"`
	Notes   int    `json:"contact_notes"`  // contact notes removed
	Actions int    `json:"action_texts"`   // actions' text removed
	Reason  bool   `json:"closure_reason"` // the closure reason removed
}

// Texts is how many texts the erasure removed.
func (x Erased) Texts() int {
	n := x.Notes + x.Actions
	if x.Reason {
		n++
	}
	return n
}

// String says what was removed, as a person reads it: "council case ASB-1: 2
// contact notes, 1 action's text and the closure reason".
func (x Erased) String() string {
	var parts []string
	if x.Notes > 0 {
		parts = append(parts, count(x.Notes, "contact note", "contact notes"))
	}
	if x.Actions > 0 {
		parts = append(parts, count(x.Actions, "action's text", "actions' text"))
	}
	if x.Reason {
		parts = append(parts, "the closure reason")
	}
	what := "no text left to remove"
	switch len(parts) {
	case 1:
		what = parts[0]
	case 2, 3:
		what = strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
	return fmt.Sprintf("%s case %s: %s", words(x.Partner), x.Ref, what)
}

func (r Rules) commit(c, next *Case, now time.Time, e HistoryEntry) (HistoryEntry, error) {
	if err := r.Check(next, r.calendar().Day(now)); err != nil {
		return HistoryEntry{}, err
	}
	*c = *next
	return e, nil
}

func moment(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func refStrings(refs []ReportRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.Source + " " + r.Ref
	}
	return out
}

// Words is what a history entry needs to be said: the zone its moments are read
// in and the names of users (a user id is said "user 12" without one).
type Words struct {
	Location *time.Location
	UserName func(id int64) string
}

func (w Words) user(id int64) string {
	if w.UserName != nil {
		if n := w.UserName(id); n != "" {
			return n
		}
	}
	return fmt.Sprintf("user %d", id)
}

// when writes a moment "Tue 3 Jan 2023 at 10:15", or the day alone when its time
// is midnight (a day written without a time).
func (w Words) when(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			return dayWords(d)
		}
		return s
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return dayWords(t)
	}
	return dayWords(t) + " at " + t.Format("15:04")
}

// Sentence says a history entry as a person would write it: "Recorded a phone
// call by PC Jones on Tue 3 Jan 2023 at 10:15, the first contact."
func (h HistoryEntry) Sentence(w Words) string {
	c := h.Changes
	str := func(k string) string { s, _ := c[k].(string); return s }
	yes := func(k string) bool { b, _ := c[k].(bool); return b }
	switch h.Action {
	case ActOpened:
		s := "Opened the case"
		if p, ref := str("partner"), str("ref"); ref != "" {
			s += ", " + words(p) + " reference “" + ref + "”"
		}
		if rk := str("risk"); rk != "" {
			s += ", " + words(rk) + " risk"
		}
		if yes("referral") {
			s += ", referred on"
		}
		if n := number(c["reports"]); n > 0 {
			s += fmt.Sprintf(", following %s", count(int(n), "report", "reports"))
		}
		if o := number(c["officer"]); o != 0 {
			s += ", case officer " + w.user(o)
		}
		return s + "."
	case ActEdited:
		var parts []string
		for _, k := range EditableFields {
			if v, ok := c[k].(map[string]any); ok {
				parts = append(parts, w.change(k, v["from"], v["to"]))
			}
		}
		if len(parts) == 0 {
			return "Saved the case unchanged."
		}
		return upperFirst(joinWords(parts)) + "."
	case ActContactAdded:
		s := "Recorded " + contactWords[str("how")]
		if s == "Recorded " {
			s += "a contact"
		}
		if by := str("by"); by != "" {
			s += " by " + by
		}
		s += " on " + w.when(c["at"])
		if yes("first") {
			s += ", the first contact"
		}
		return s + "."
	case ActActionAdded:
		s := fmt.Sprintf("Added action %d to the plan", number(c["number"]))
		if o := str("owner"); o != "" {
			s += ", owner " + o
		}
		if d := str("due"); d != "" {
			s += ", due by " + w.when(d)
		}
		if d := str("done_at"); d != "" {
			s += ", done on " + w.when(d)
		}
		return s + "."
	case ActActionDone:
		return fmt.Sprintf("Marked action %d done on %s.", number(c["number"]), w.when(c["done_at"]))
	case ActActionUndone:
		return fmt.Sprintf("Marked action %d not done.", number(c["number"]))
	case ActClosed:
		return "Closed the case on " + w.when(c["at"]) + ": " + outcomeSentence(str("outcome")) + "."
	case ActReopened:
		return "Reopened the case, closed on " + w.when(c["closed_at"]) + " as " + outcomeWords[str("outcome")] + "."
	case ActSurveyRecorded:
		sat := func(k, what string) string {
			if yes(k) {
				return "satisfied with the " + what
			}
			return "not satisfied with the " + what
		}
		if yes("declined") {
			return "Recorded that the complainant declined the satisfaction survey, offered " + w.when(c["at"]) + "."
		}
		return "Recorded the satisfaction survey of " + w.when(c["at"]) + ": " + sat("satisfied_outcome", "outcome") + ", " + sat("satisfied_handling", "handling") + "."
	case ActErased:
		return fmt.Sprintf("Erased the complainant’s free text on their request (%s removed).", count(int(number(c["texts"])), "text", "texts"))
	}
	return upperFirst(words(h.Action)) + "."
}

// change says how one editable field changed, as a clause: "changed the risk
// from standard to high", "recorded a referral".
func (w Words) change(k string, from, to any) string {
	switch k {
	case "officer":
		f, t := number(from), number(to)
		switch {
		case t == 0:
			return "took the case from " + w.user(f) + ", leaving it unassigned"
		case f == 0:
			return "assigned the case to " + w.user(t)
		}
		return "passed the case from " + w.user(f) + " to " + w.user(t)
	case "risk":
		f, _ := from.(string)
		t, _ := to.(string)
		return "changed the risk from " + words(f) + " to " + words(t)
	case "referral":
		if b, _ := to.(bool); b {
			return "recorded a referral"
		}
		return "removed the referral"
	case "reports":
		f, t := strList(from), strList(to)
		var added, removed int
		for _, x := range t {
			if !slices.Contains(f, x) {
				added++
			}
		}
		for _, x := range f {
			if !slices.Contains(t, x) {
				removed++
			}
		}
		var p []string
		if added > 0 {
			p = append(p, "linked "+count(added, "report", "reports"))
		}
		if removed > 0 {
			p = append(p, "unlinked "+count(removed, "report", "reports"))
		}
		if len(p) == 0 {
			return "reordered the linked reports"
		}
		return strings.Join(p, " and ")
	}
	name := map[string]string{"opened_at": "the opening", "first_contact_at": "the first contact", "victims_code_at": "the Victims' Code offer"}[k]
	if s, _ := to.(string); s == "" {
		return "removed " + name + " (was " + w.when(from) + ")"
	}
	if s, _ := from.(string); s == "" {
		return "set " + name + " to " + w.when(to)
	}
	return "moved " + name + " from " + w.when(from) + " to " + w.when(to)
}

var contactWords = map[string]string{ContactPhone: "a phone call", ContactVisit: "a visit", ContactEmail: "an email",
	ContactLetter: "a letter", ContactOther: "a contact"}

func outcomeSentence(o string) string {
	switch o {
	case OutcomeResolved:
		return "resolved"
	case OutcomeNotResolved:
		return "not resolved"
	case OutcomeWithdrawn:
		return "withdrawn by the complainant"
	}
	return words(o)
}

// number reads an integer a JSON round trip may have made a float64.
func number(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}

func strList(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, 0, len(l))
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// joinWords joins a list as a sentence does: "a", "a and b", "a, b and c".
func joinWords(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
