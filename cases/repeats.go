package cases

import (
	"cmp"
	"slices"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// Who a repeat is: a victim or an offender.
const (
	Victim   = "victim"
	Offender = "offender"
)

// Report is what the repeat rule reads of a report: who it names (by pseudonym),
// when it happened, its strands and the areas it falls in.
type Report struct {
	Source      string    `json:"source"`
	SourceRef   string    `json:"source_ref"`
	VictimKey   string    `json:"-"`
	OffenderKey string    `json:"-"`
	Day         time.Time `json:"day"` // the day it counts on (occurred_from), midnight UTC
	Strands     []string  `json:"strands"`
	Areas       []string  `json:"areas"` // codes of the areas it falls in, never a point
}

func (r *Report) key(who string) string {
	if who == Offender {
		return r.OffenderKey
	}
	return r.VictimKey
}

// RepeatRule says who is a repeat: a person named by at least MinReports reports
// whose days fall in the window of WindowMonths calendar months ending on a day.
//
// The window ending on day D runs from the day after the same date WindowMonths
// months before D (the month's last day when it has no such date) to D, both
// included: for 12 months ending on 10 March 2024, from 11 March 2023 to 10
// March 2024; ending on 29 February 2024, from 1 March 2023. Two reports a year
// and a day apart are not repeats; a year less a day apart, they are.
type RepeatRule struct {
	WindowMonths int // 12
	MinReports   int // 2
}

// DefaultRepeatRule is two or more reports in the twelve months ending on a day.
func DefaultRepeatRule() RepeatRule { return RepeatRule{WindowMonths: 12, MinReports: 2} }

// Check returns an EINVALID error when the rule cannot hold: a window of 1 to 120
// months and at least 2 reports.
func (r RepeatRule) Check() error {
	switch {
	case r.WindowMonths < 1 || r.WindowMonths > 120:
		return geo.Errorf(geo.EINVALID, "repeat window: %d months is not between 1 and 120", r.WindowMonths)
	case r.MinReports < 2:
		return geo.Errorf(geo.EINVALID, "repeat reports: a repeat takes at least 2 reports, not %d", r.MinReports)
	}
	return nil
}

// Window returns the first and last days of the window ending on a day.
func (r RepeatRule) Window(asOf time.Time) (from, to time.Time) {
	to = geo.Day(asOf)
	y, m, d := to.Date()
	back := time.Date(y, m-time.Month(r.WindowMonths), 1, 0, 0, 0, 0, time.UTC)
	last := back.AddDate(0, 1, -1).Day() // days in that month
	back = back.AddDate(0, 0, min(d, last)-1)
	return back.AddDate(0, 0, 1), to
}

// Repeat is one person the rule finds: how many reports name them in the window,
// the first and last day, the strands and areas of those reports and the
// reports themselves.
type Repeat struct {
	Who      string      `json:"who"` // Victim or Offender
	Key      string      `json:"-"`   // the pseudonym; for joining, not for showing
	Reports  int         `json:"reports"`
	First    time.Time   `json:"first"`
	Last     time.Time   `json:"last"`
	Strands  []string    `json:"strands"` // every strand of their reports, sorted
	Areas    []string    `json:"areas"`   // every area of their reports, sorted
	Refs     []ReportRef `json:"refs"`    // their reports, in date order
	OpenCase bool        `json:"open_case"`
}

// Find lists the repeat victims (who is Victim) or offenders (Offender) among
// reports, as of a day: most reports first, then the latest, then by key.
// Reports outside the window, or naming no one, are not read.
func (r RepeatRule) Find(reports []Report, who string, asOf time.Time) []Repeat {
	from, to := r.Window(asOf)
	by := map[string][]*Report{}
	for i := range reports {
		x := &reports[i]
		k := x.key(who)
		if k == "" {
			continue
		}
		if d := geo.Day(x.Day); d.Before(from) || d.After(to) {
			continue
		}
		by[k] = append(by[k], x)
	}
	var out []Repeat
	for k, list := range by {
		if len(list) < r.MinReports {
			continue
		}
		slices.SortStableFunc(list, func(a, b *Report) int {
			return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Source, b.Source), cmp.Compare(a.SourceRef, b.SourceRef))
		})
		rp := Repeat{Who: who, Key: k, Reports: len(list), First: geo.Day(list[0].Day), Last: geo.Day(list[len(list)-1].Day)}
		for _, x := range list {
			rp.Strands = append(rp.Strands, x.Strands...)
			rp.Areas = append(rp.Areas, x.Areas...)
			rp.Refs = append(rp.Refs, ReportRef{Source: x.Source, Ref: x.SourceRef})
		}
		slices.Sort(rp.Strands)
		rp.Strands = slices.Compact(rp.Strands)
		slices.Sort(rp.Areas)
		rp.Areas = slices.Compact(rp.Areas)
		out = append(out, rp)
	}
	slices.SortFunc(out, func(a, b Repeat) int {
		return cmp.Or(cmp.Compare(b.Reports, a.Reports), b.Last.Compare(a.Last), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// Count gives the review's repeat figures by the same rule: of the reports in the
// window ending on a day that name a person, how many there are and how many
// people they name; how many of those people are repeats and how many reports
// name a repeat.
func (r RepeatRule) Count(reports []Report, who string, asOf time.Time) geo.RepeatCounts {
	from, to := r.Window(asOf)
	n := map[string]int{}
	var out geo.RepeatCounts
	for i := range reports {
		x := &reports[i]
		k := x.key(who)
		if d := geo.Day(x.Day); k == "" || d.Before(from) || d.After(to) {
			continue
		}
		out.WithKey++
		n[k]++
	}
	out.People = len(n)
	for _, c := range n {
		if c >= r.MinReports {
			out.RepeatPeople++
			out.RepeatReports += c
		}
	}
	return out
}

// MarkOpenCases sets OpenCase on each repeat victim who has an open case, any
// partner's: their victim key is the case's.
func MarkOpenCases(repeats []Repeat, cs []*Case) {
	open := map[string]bool{}
	for _, c := range cs {
		if c.Open() {
			open[c.VictimKey] = true
		}
	}
	for i := range repeats {
		repeats[i].OpenCase = repeats[i].Who == Victim && open[repeats[i].Key]
	}
}

// WithoutOpenCase keeps the repeat victims who have no open case: the ones a
// worklist flags.
func WithoutOpenCase(repeats []Repeat) []Repeat {
	var out []Repeat
	for _, r := range repeats {
		if r.Who == Victim && !r.OpenCase {
			out = append(out, r)
		}
	}
	return out
}
