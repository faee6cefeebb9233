package tension

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The texts a person reads about a finding: its method by name, the days its window
// covers, the baseline its expected count comes from and its p-value. Pages, the
// API and the map's panel take them from here, so that they say the same.

// FormatP writes a p-value with two significant figures however small: 0.50, 0.043,
// 0.0012, then in scientific notation below 0.001 (2.0e-12), so that a very small
// p-value never reads as 0. A p-value that underflowed to 0 reads "below 1e-300"
// (the smallest a float64 computation here resolves); NaN or an infinity reads "–".
func FormatP(p float64) string {
	switch {
	case math.IsNaN(p) || math.IsInf(p, 0) || p < 0:
		return "–"
	case p == 0:
		return "below 1e-300"
	}
	// Round first, so that 0.000999 becomes 0.0010 and not 1.0e-3.
	r, _ := strconv.ParseFloat(strconv.FormatFloat(p, 'e', 1, 64), 64)
	if r >= 0.001 {
		digits := max(1-int(math.Floor(math.Log10(r))), 1)
		return strconv.FormatFloat(r, 'f', digits, 64)
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(r, 'e', 1, 64), "e")
	n, _ := strconv.Atoi(exp)
	return mant + "e" + strconv.Itoa(n)
}

// MethodName names the finding's method as a reader knows it.
func (f *Finding) MethodName() string {
	switch f.Method {
	case MethodFarrington:
		return "Farrington-flexible (baseline exceedance)"
	case MethodEARS:
		if v, ok := strings.CutPrefix(f.Detail, "EARS "); ok && len(v) == 2 && v[0] == 'C' {
			return "EARS " + v
		}
		return "EARS C2"
	case MethodScan:
		return "space-time permutation scan"
	case MethodUplift:
		return "trigger-event uplift"
	case "widespread":
		return "widespread rise"
	}
	return words(f.Method)
}

// Days is the number of days the finding's window covers, both ends included.
func (f *Finding) Days() int {
	if f.WindowFrom.IsZero() || f.WindowTo.IsZero() || f.WindowTo.Before(f.WindowFrom) {
		return 0
	}
	return dayNumber(f.WindowTo) - dayNumber(f.WindowFrom) + 1
}

// WindowText says the days the finding covers and how many: "7 days, 1–7 Jul 2016",
// "1 day, 7 Jul 2016".
func (f *Finding) WindowText() string {
	n := f.Days()
	if n == 0 {
		return "–"
	}
	return DaysWord(n) + ", " + DayRange(f.WindowFrom, f.WindowTo)
}

// BaselineText says in words where the finding's expected count comes from: "the
// same weeks of the five years before", "the four weeks before, 27 May – 23 Jun
// 2016"; "" when the method says nothing of it.
func (f *Finding) BaselineText() string {
	if (f.Method == MethodFarrington || f.Method == MethodWidespread) && !f.BaselineFrom.IsZero() {
		unit := "weeks"
		if f.Scale == ScaleFourWeeks {
			unit = "four-week periods"
		}
		years := int(math.Round(f.BaselineTo.Sub(f.BaselineFrom).Hours() / 24 / 364))
		of := "of past years"
		switch {
		case years == 1:
			of = "of the year before"
		case years > 1:
			of = "of the " + NumberWord(years) + " years before"
		}
		return fmt.Sprintf("the same %s %s, %s", unit, of, DayRange(f.BaselineFrom, f.BaselineTo))
	}
	switch f.Method {
	case MethodFarrington:
		unit := "weeks"
		if strings.Contains(strings.ToLower(f.Detail), "month") {
			unit = "months"
		}
		if m := yearsOfBaseline.FindStringSubmatch(f.Detail); m != nil {
			n, _ := strconv.Atoi(m[1])
			if n == 1 {
				return "the same " + unit + " of the year before"
			}
			return "the same " + unit + " of the " + NumberWord(n) + " years before"
		}
		return "the same " + unit + " of past years"
	case MethodEARS:
		if f.WindowTo.IsZero() {
			return ""
		}
		gap := 2 // C2 and C3 leave two days between the baseline and the day tested
		if strings.HasSuffix(f.Detail, "C1") {
			gap = 0
		}
		last := f.WindowTo.AddDate(0, 0, -1-gap)
		first := last.AddDate(0, 0, -(DefaultEARSBaseline - 1))
		when := "before"
		if gap > 0 {
			when = "ending " + NumberWord(gap+1) + " days before"
		}
		return fmt.Sprintf("the %s days %s, %s", NumberWord(DefaultEARSBaseline), when, DayRange(first, last))
	case MethodScan:
		return "the places' and days' totals over the scan's period, as if place and time were unrelated"
	case MethodUplift:
		if i := strings.LastIndex(f.Detail, upliftAgainst); i >= 0 { // the last: an event's name may hold the words
			return f.Detail[i+len(upliftAgainst):]
		}
	}
	return ""
}

// upliftAgainst separates, in an uplift finding's detail, the window from the
// baseline it is compared with; BaselineText reads the baseline after it.
const upliftAgainst = ", against "

var yearsOfBaseline = regexp.MustCompile(`(\d+) years? of baseline`)

// DayRange writes the days from..to as a person would: "7 Jul 2016", "1–7 Jul
// 2016", "27 May – 23 Jun 2016", "28 Dec 2015 – 3 Jan 2016".
func DayRange(from, to time.Time) string {
	switch {
	case dayNumber(from) == dayNumber(to):
		return from.Format("2 Jan 2006")
	case from.Year() == to.Year() && from.Month() == to.Month():
		return from.Format("2") + "–" + to.Format("2 Jan 2006")
	case from.Year() == to.Year():
		return from.Format("2 Jan") + " – " + to.Format("2 Jan 2006")
	}
	return from.Format("2 Jan 2006") + " – " + to.Format("2 Jan 2006")
}

// DaysWord writes a number of days: "1 day", "4 days".
func DaysWord(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// PeriodWords names a span of days as a person would: "four weeks" for 28 days,
// "ten days", "45 days".
func PeriodWords(days int) string {
	switch {
	case days == 1:
		return "one day"
	case days == 7:
		return "one week"
	case days%7 == 0 && days/7 <= 52:
		return NumberWord(days/7) + " weeks"
	}
	return NumberWord(days) + " days"
}

// NumberWord writes a whole number as a word up to ten, in figures above.
func NumberWord(n int) string {
	if n >= 0 && n <= 10 {
		return [...]string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}[n]
	}
	return strconv.Itoa(n)
}

// dayNumber counts days since the epoch in the time's own calendar.
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}
