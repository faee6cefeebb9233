package geo

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// ReviewQuery asks for the figures of a strategic group's periodic review (a
// quarter, say) of hate crime and hate incidents.
//
// Definitions used throughout the review:
//
//   - A report counts on the first day it may have occurred (occurred_from), as in
//     every roll-up; a report is in a period when that day is From, To or between.
//   - The year-earlier period runs from YearEarlier(From) to YearEarlier(To); for a
//     period longer than a year the two overlap, and each counts its own days.
//   - A report of two strands counts under each of them in a split by strand, and
//     once in every total ("all strands").
//   - Months are calendar months.
type ReviewQuery struct {
	From, To time.Time // days, both included
	// Level is the area level of the area table (e.g. "lsoa", "ward"); "" is the
	// level with the most areas (the first by name on a tie).
	Level string
	// Today is the day against which reviews and actions are overdue: due before
	// it. Zero is the current day in Location.
	Today time.Time
	// Location is the zone whose calendar days the times assessments were opened
	// and closed fall on (Europe/London for a UK partnership); nil is UTC.
	Location *time.Location
	// RepeatMonths is the window of the repeat rule (package cases): a person
	// named in two reports or more in the months ending on To; 12 when 0.
	RepeatMonths int
}

// Day returns the calendar day of t (its year, month and day as written) as
// midnight UTC, the form every day takes in this package.
func Day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// AppendDay appends t's day as 2006-01-02 (as time.DateOnly writes it), nothing for
// the zero time: what Format writes, without parsing the layout on each call.
func AppendDay(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, time.DateOnly)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// YearEarlier returns the same calendar day a year before t, as midnight UTC; 29
// February becomes 28 February.
func YearEarlier(t time.Time) time.Time {
	y, m, d := t.Year()-1, t.Month(), t.Day()
	if m == time.February && d == 29 {
		d = 28
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Normalise returns the query with its days as midnight UTC, Today filled in when
// zero and Location when nil, or an EINVALID error when a day is missing or To is
// before From.
func (q ReviewQuery) Normalise(now time.Time) (ReviewQuery, error) {
	if q.From.IsZero() || q.To.IsZero() {
		return q, Errorf(EINVALID, "a review needs a first and a last day")
	}
	q.From, q.To = Day(q.From), Day(q.To)
	if q.To.Before(q.From) {
		return q, Errorf(EINVALID, "to (%s) is before from (%s)", q.To.Format(time.DateOnly), q.From.Format(time.DateOnly))
	}
	if q.Location == nil {
		q.Location = time.UTC
	}
	if q.Today.IsZero() {
		q.Today = now.In(q.Location)
	}
	q.Today = Day(q.Today)
	return q, nil
}

// Review holds the figures of a strategic review, computed for a period and, where
// a field says so, for the same period a year earlier. Every count is raw: no
// small-number suppression or rounding is applied here.
type Review struct {
	// Query is the query answered, normalised: days as midnight UTC, Level, Today
	// and Location filled in.
	Query ReviewQuery

	// Strands and Sources are the strands and sources the database holds (those
	// configured, registered at ingest), in their stored order: every one appears
	// in each split, with zero when nothing was reported.
	Strands []string
	Sources []string

	Period      PeriodCounts // From to To
	YearEarlier PeriodCounts // YearEarlier(From) to YearEarlier(To)

	// Areas is every area of Query.Level, in code order, zeros included; empty
	// when no area is stored. A report counts in an area when its place lies
	// inside the area's boundary (attributed at ingest, or at the import of the
	// boundaries); reports without a place (online, none) count in no area.
	Areas []ReviewArea

	Repeats ReviewRepeats

	// Months are the 24 calendar months ending with the month of To, oldest first,
	// zeros included. The last month counts its days up to To only, so it is
	// partial when To is not the last day of its month.
	Months []MonthCount

	Alerts      ReviewAlerts
	Assessments ReviewAssessments

	// Outcomes are those of the police-recorded crimes of the period (source
	// OutcomeSource, kind crime), each by its latest outcome as the view
	// latest_outcomes defines it: the same figures as the database's
	// CrimeOutcomes over the period's days.
	Outcomes OutcomeCounts
}

// PeriodCounts are the reports of one period.
type PeriodCounts struct {
	From, To  time.Time // days, both included
	Reports   int       // every report: crimes and incidents, located or not
	Crimes    int
	Incidents int
	ByStrand  map[string]int // every configured strand; a report of two strands counts under each
	BySource  map[string]int // every configured source
}

// ReviewArea is one area's count in the period and a year earlier.
type ReviewArea struct {
	Code       string
	Name       string
	Population int // residents; 0 when unknown
	Count      int // reports in the period
	Previous   int // reports in the year-earlier period
}

// Rate is the area's reports in the period per 1,000 residents (over the whole
// period, not annualised); ok is false when its population is unknown.
func (a ReviewArea) Rate() (float64, bool) { return Rate(a.Count, a.Population) }

// Rise is the change in reports from the year-earlier period: Count - Previous.
func (a ReviewArea) Rise() int { return a.Count - a.Previous }

// ReviewRepeats count repeat victims and repeat offenders by the repeat rule of
// package cases: over the ReviewQuery.RepeatMonths (12) months ending on the
// period's last day.
type ReviewRepeats struct {
	Victims   RepeatCounts
	Offenders RepeatCounts
}

// RepeatCounts describe the repeats among the reports of a period that name a
// person (a victim or an offender) by pseudonym. Pseudonyms are keyed by source,
// so the same person reported through two sources counts as two people.
type RepeatCounts struct {
	// WithKey is the number of reports that carry a pseudonym at all: the
	// denominator of RepeatReports.
	WithKey int
	// People is the number of distinct pseudonyms among those reports.
	People int
	// RepeatPeople is the number of distinct pseudonyms with two or more reports
	// in the window.
	RepeatPeople int
	// RepeatReports is the number of reports that carry one of those pseudonyms.
	RepeatReports int
}

// MonthCount is the reports of one calendar month.
type MonthCount struct {
	Month    time.Time // the first day of the month, midnight UTC
	Total    int       // all strands: each report once
	ByStrand map[string]int
}

// ReviewAlerts count the alerts raised in the period: those whose first sighting
// (first_seen, the analysis day of the run that raised them) is in it, whatever
// their status now.
type ReviewAlerts struct {
	Raised   int
	ByMethod map[string]int // by detector method
	ByLevel  map[string]int // by the tension level the alert holds now
}

// ReviewAssessments describe the Community Impact Assessments. Days of the times
// they were opened and closed are taken in the query's Location.
type ReviewAssessments struct {
	Opened int // first opened in the period
	Closed int // last closed in the period, whatever their status now
	Open   int // open or under review now
	// Overdue is the number of assessments open or under review now whose review
	// date is before Today, or with an action not done whose due day is before
	// Today.
	Overdue int
	// OverdueActions is the number of actions not done whose due day is before
	// Today, of assessments open or under review now.
	OverdueActions int
	// DaysToOpen is the median number of days from an alert's first sighting to
	// its assessment being opened (the calendar day opened minus the alert's
	// first_seen), over the assessments opened in the period that answer an
	// alert; nil when there are none. DaysToOpenOver is how many there are.
	DaysToOpen     *float64
	DaysToOpenOver int
}

// PctChange returns the percentage change from prev to cur, 100 × (cur − prev) /
// prev; ok is false when prev is 0 (no percentage can be given).
func PctChange(cur, prev int) (pct float64, ok bool) {
	if prev == 0 {
		return 0, false
	}
	return 100 * float64(cur-prev) / float64(prev), true
}

// Rate returns count per 1,000 of population; ok is false when population is 0
// (unknown).
func Rate(count, population int) (rate float64, ok bool) {
	if population <= 0 {
		return 0, false
	}
	return 1000 * float64(count) / float64(population), true
}

// Median returns the middle value of xs (the mean of the two middle values when
// there is an even number of them); ok is false, and the median NaN, when xs is
// empty. xs is left as it was.
func Median(xs []float64) (median float64, ok bool) {
	if len(xs) == 0 {
		return math.NaN(), false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// RankByRate returns the areas with a known population, highest rate first (ties
// by code), at most limit of them (all when limit <= 0). areas is left as it was.
func RankByRate(areas []ReviewArea, limit int) []ReviewArea {
	var out []ReviewArea
	for _, a := range areas {
		if a.Population > 0 {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b ReviewArea) int {
		// a.Count/a.Population against b.Count/b.Population, exactly.
		if c := cmp.Compare(int64(b.Count)*int64(a.Population), int64(a.Count)*int64(b.Population)); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return limited(out, limit)
}

// RankByRise returns the areas by their rise in reports from a year earlier
// (Count − Previous), largest first (ties by code), at most limit of them (all when
// limit <= 0). Areas whose count fell or stayed the same come last, unless the
// limit leaves them out. areas is left as it was.
func RankByRise(areas []ReviewArea, limit int) []ReviewArea {
	out := slices.Clone(areas)
	slices.SortFunc(out, func(a, b ReviewArea) int {
		if c := cmp.Compare(b.Rise(), a.Rise()); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return limited(out, limit)
}

func limited(areas []ReviewArea, limit int) []ReviewArea {
	if limit > 0 && len(areas) > limit {
		return areas[:limit]
	}
	return areas
}
