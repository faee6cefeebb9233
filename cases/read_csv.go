package cases

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// CSVColumns are the columns a CSV export of cases may have, one case a row:
//
//	partner            the owning partner (or CSVOptions.Partner for every row)
//	ref                the partner's case reference (required)
//	victim_ref         the partner's own reference for the complainant, turned
//	                   into the victim key by CSVOptions.Pseudonymise; or
//	victim_key         the pseudonym itself (32 hexadecimal digits)
//	reports            the references of the reports it follows, separated by
//	                   semicolons; "source:ref" for another source's report
//	opened_at          when it was opened (required)
//	first_contact_at   the first contact with the complainant
//	contacts           the moments of the later contacts, separated by semicolons
//	victims_code_at    when the Victims' Code was offered
//	risk               standard, medium or high (standard when empty)
//	referral           yes or no
//	closed_at, outcome when it closed: resolved, not_resolved or withdrawn
//	survey_at          the day of the satisfaction survey
//	satisfied_outcome, satisfied_handling   yes or no
//	survey_declined    yes when the complainant declined the survey
//
// A moment is written 2026-03-02 10:15, 2026-03-02T10:15:00Z or 02/03/2026 10:15
// (day first); without a time it is noon. No free text is read: notes, action
// text and closure reasons stay in the partner's system.
var CSVColumns = []string{"partner", "ref", "victim_ref", "victim_key", "reports", "opened_at", "first_contact_at", "contacts",
	"victims_code_at", "risk", "referral", "closed_at", "outcome", "survey_at", "satisfied_outcome", "satisfied_handling", "survey_declined"}

// CSVOptions say how to read a CSV export of cases.
type CSVOptions struct {
	// Mapping names, for a column of CSVColumns, the export's own column that
	// holds it ("opened_at": "Date opened").
	Mapping map[string]string
	// Partner is the owning partner of rows without a partner column.
	Partner string
	// Pseudonymise turns a partner's reference for a complainant into the victim
	// key (geo.Pseudonym with the service's key); rows with victim_ref are
	// rejected without it.
	Pseudonymise func(partner, ref string) string
	Rules        Rules
	Today        time.Time // nothing may be later; the day the load runs
	Actor        string    // the history's actor
	Now          time.Time // the history's moment
}

// Limits of a CSV export of cases.
const (
	MaxCSVBytes = 64 << 20
	MaxCSVRows  = 200_000
)

// ReadCSV reads a CSV export of cases, one a row (see CSVColumns). Every good row
// becomes a checked case with its history; a bad one is rejected with its line,
// field and reason, and the rest are kept. The error is for the file as a whole:
// no header, a column that is missing or twice, a file too large.
func ReadCSV(r io.Reader, o CSVOptions) ([]*Case, []*geo.RowError, error) {
	lr := &io.LimitedReader{R: r, N: MaxCSVBytes + 1}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, geo.Errorf(geo.EINVALID, "cases: the file is empty; it needs a header line naming its columns")
	}
	if err != nil {
		return nil, nil, geo.Errorf(geo.EINVALID, "cases: line 1: %s", csvErr(err))
	}
	// Which column holds each field: the mapped name, else the field's own.
	names := map[string]string{}
	for _, f := range CSVColumns {
		names[strings.ToLower(f)] = f
	}
	for f, c := range o.Mapping {
		if !slices.Contains(CSVColumns, f) {
			return nil, nil, geo.Errorf(geo.EINVALID, "cases: --map %s: not a column of cases (%s)", f, strings.Join(CSVColumns, ", "))
		}
		names[strings.ToLower(strings.TrimSpace(c))] = f
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		f, ok := names[h]
		if !ok {
			continue // a column the cases do not read
		}
		if _, twice := col[f]; twice {
			return nil, nil, geo.Errorf(geo.EINVALID, "cases: line 1: the column for %s appears twice", f)
		}
		col[f] = i
	}
	for _, need := range []string{"ref", "opened_at"} {
		if _, ok := col[need]; !ok {
			return nil, nil, geo.Errorf(geo.EINVALID, "cases: line 1: no %s column (name it with --map %s=Column)", need, need)
		}
	}
	_, hasRef := col["victim_ref"]
	_, hasKey := col["victim_key"]
	if !hasRef && !hasKey {
		return nil, nil, geo.Errorf(geo.EINVALID, "cases: line 1: no victim_ref or victim_key column: a case needs its complainant's pseudonym")
	}
	_, hasPartner := col["partner"]
	if !hasPartner && o.Partner == "" {
		return nil, nil, geo.Errorf(geo.EINVALID, "cases: line 1: no partner column; say whose cases they are")
	}
	var out []*Case
	var rejects []*geo.RowError
	seen := map[[2]string]int{}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line := 0
		if len(rec) > 0 {
			line, _ = cr.FieldPos(0)
		}
		if lr.N <= 0 {
			return out, rejects, geo.Errorf(geo.EINVALID, "cases: the file is larger than %d MiB", MaxCSVBytes>>20)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				rejects = append(rejects, &geo.RowError{Line: pe.Line, Field: "record", Reason: csvErr(err)})
				return out, rejects, nil // the rest of the file cannot be read in step
			}
			if pe != nil {
				line = pe.Line
			}
			rejects = append(rejects, &geo.RowError{Line: max(line, 1), Field: "record", Reason: csvErr(err)})
			continue
		}
		if n >= MaxCSVRows {
			return out, rejects, geo.Errorf(geo.EINVALID, "cases: more than %d rows; split the file", MaxCSVRows)
		}
		get := func(f string) string {
			if i, ok := col[f]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		c, field, reason := o.row(get)
		if reason == "" {
			k := [2]string{c.Partner, c.Ref}
			if first, dup := seen[k]; dup {
				field, reason = "ref", fmt.Sprintf("case %s is also on line %d", c.Ref, first)
			} else {
				seen[k] = line
			}
		}
		if reason != "" {
			rejects = append(rejects, &geo.RowError{Line: line, Field: field, Reason: reason})
			continue
		}
		out = append(out, c)
	}
	return out, rejects, nil
}

// row reads one row into a checked case with its history, or says the field and
// reason it is refused for.
func (o CSVOptions) row(get func(string) string) (*Case, string, string) {
	cal := o.Rules.calendar()
	c := &Case{Partner: geo.NormaliseName(get("partner")), Ref: get("ref"), Risk: strings.ToLower(get("risk")),
		Reports: []ReportRef{}, Actions: []Action{}, Contacts: []Contact{}}
	if c.Partner == "" {
		c.Partner = o.Partner
	}
	if c.Risk == "" {
		c.Risk = RiskStandard
	}
	if !slices.Contains(o.Rules.partners(), c.Partner) {
		return nil, "partner", fmt.Sprintf("%q is not a partner (%s)", c.Partner, strings.Join(o.Rules.partners(), ", "))
	}
	switch ref, key := get("victim_ref"), strings.ToLower(get("victim_key")); {
	case key != "":
		c.VictimKey = key
	case ref == "":
		return nil, "victim_ref", "required: the partner's reference for the complainant"
	case o.Pseudonymise == nil:
		return nil, "victim_ref", "no pseudonymisation key is configured, and raw references are never stored"
	default:
		c.VictimKey = o.Pseudonymise(c.Partner, ref)
	}
	moment := func(field string) (time.Time, string) {
		v := get(field)
		if v == "" {
			return time.Time{}, ""
		}
		t, ok := parseMoment(v, cal.Location())
		if !ok {
			return time.Time{}, fmt.Sprintf("%q is not a day and time such as 2026-03-02 10:15", v)
		}
		return t, ""
	}
	yes := func(field string) (bool, string) {
		switch strings.ToLower(get(field)) {
		case "", "no", "n", "false", "0":
			return false, ""
		case "yes", "y", "true", "1":
			return true, ""
		}
		return false, fmt.Sprintf("%q is not yes or no", get(field))
	}
	var msg string
	for _, f := range []struct {
		field string
		dst   *time.Time
	}{{"opened_at", &c.OpenedAt}, {"first_contact_at", &c.FirstContactAt}, {"victims_code_at", &c.VictimsCodeAt}} {
		if *f.dst, msg = moment(f.field); msg != "" {
			return nil, f.field, msg
		}
	}
	if c.Referral, msg = yes("referral"); msg != "" {
		return nil, "referral", msg
	}
	for _, part := range splitSemi(get("reports")) {
		src, ref, ok := strings.Cut(part, ":")
		if !ok {
			src, ref = c.Partner, part
		}
		c.Reports = append(c.Reports, ReportRef{Source: geo.NormaliseName(src), Ref: strings.TrimSpace(ref)})
	}
	if !c.FirstContactAt.IsZero() {
		c.Contacts = append(c.Contacts, Contact{At: c.FirstContactAt, How: ContactOther, By: c.Partner})
	}
	for _, part := range splitSemi(get("contacts")) {
		t, ok := parseMoment(part, cal.Location())
		if !ok {
			return nil, "contacts", fmt.Sprintf("%q is not a day and time such as 2026-03-02 10:15", part)
		}
		c.Contacts = append(c.Contacts, Contact{At: t, How: ContactOther, By: c.Partner})
	}
	slices.SortStableFunc(c.Contacts, func(a, b Contact) int { return a.At.Compare(b.At) })
	if len(c.Contacts) > 0 && (c.FirstContactAt.IsZero() || c.Contacts[0].At.Before(c.FirstContactAt)) {
		c.FirstContactAt = c.Contacts[0].At
	}
	closed, msg := moment("closed_at")
	if msg != "" {
		return nil, "closed_at", msg
	}
	if outcome := strings.ToLower(strings.ReplaceAll(get("outcome"), " ", "_")); !closed.IsZero() || outcome != "" {
		if closed.IsZero() {
			return nil, "closed_at", "required when an outcome is given"
		}
		c.Closure = &Closure{At: closed, Outcome: outcome}
	}
	surveyed, msg := moment("survey_at")
	if msg != "" {
		return nil, "survey_at", msg
	}
	if surveyed.IsZero() && get("satisfied_outcome")+get("satisfied_handling")+get("survey_declined") != "" {
		return nil, "survey_at", "required when the survey's answers are given"
	}
	if !surveyed.IsZero() {
		s := &Survey{At: surveyed}
		if s.SatisfiedOutcome, msg = yes("satisfied_outcome"); msg != "" {
			return nil, "satisfied_outcome", msg
		}
		if s.SatisfiedHandling, msg = yes("satisfied_handling"); msg != "" {
			return nil, "satisfied_handling", msg
		}
		if s.Declined, msg = yes("survey_declined"); msg != "" {
			return nil, "survey_declined", msg
		}
		c.Survey = s
	}
	// A closure reason is free text the export does not carry: one required by
	// the outcome is said to be in the partner's system.
	if c.Closure != nil && c.Closure.Outcome != OutcomeResolved && slices.Contains(Outcomes, c.Closure.Outcome) {
		c.Closure.Reason = "Recorded in the partner's system"
	}
	actor, now := o.Actor, o.Now
	if actor == "" {
		actor = "cli:load"
	}
	if now.IsZero() {
		now = o.Today
	}
	e, err := o.Rules.Open(c, actor, now)
	if err != nil {
		f, reason, ok := strings.Cut(geo.ErrorMessage(err), ": ")
		if !ok {
			return nil, "record", geo.ErrorMessage(err)
		}
		if strings.HasPrefix(f, "contacts ") {
			f = "contacts"
		}
		return nil, f, reason
	}
	c.History = []HistoryEntry{e}
	return c, "", ""
}

func splitSemi(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseMoment reads a moment in a zone: a day and time, or a day (noon).
func parseMoment(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "02/01/2006 15:04", "2/1/2006 15:04"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	for _, l := range []string{time.DateOnly, "02/01/2006", "2/1/2006"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.Add(12 * time.Hour), true
		}
	}
	return time.Time{}, false
}
