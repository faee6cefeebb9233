package tension

import (
	"math"
	"testing"
	"time"
)

func TestFormatP(t *testing.T) {
	for _, c := range []struct {
		name string
		p    float64
		want string
	}{
		{"one", 1, "1.0"},
		{"a half", 0.5, "0.50"},
		{"just significant", 0.0432, "0.043"},
		{"rounds up to a tenth", 0.0996, "0.10"},
		{"two figures below a hundredth", 0.00123, "0.0012"},
		{"rounds up to a thousandth, stays decimal", 0.000996, "0.0010"},
		{"below a thousandth", 0.000123, "1.2e-4"},
		{"p 2e-12 is not 0 (issue: the API gave p_value 0)", 2e-12, "2.0e-12"},
		{"rounds the mantissa", 4.96e-12, "5.0e-12"},
		{"far tail", 5.3e-26, "5.3e-26"},
		{"subnormal", 5e-320, "5.0e-320"},
		{"underflowed to zero", 0, "below 1e-300"},
		{"not a number", math.NaN(), "–"},
		{"infinite", math.Inf(1), "–"},
		{"negative", -0.1, "–"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := FormatP(c.p); got != c.want {
				t.Errorf("FormatP(%g) = %q, want %q", c.p, got, c.want)
			}
		})
	}
}

func TestDayRange(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name, from, to, want string
	}{
		{"one day", "2016-07-07", "2016-07-07", "7 Jul 2016"},
		{"within a month", "2016-07-01", "2016-07-07", "1–7 Jul 2016"},
		{"across months", "2016-05-27", "2016-06-23", "27 May – 23 Jun 2016"},
		{"across years", "2015-12-28", "2016-01-03", "28 Dec 2015 – 3 Jan 2016"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := DayRange(d(c.from), d(c.to)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestPeriodWords(t *testing.T) {
	for _, c := range []struct {
		days int
		want string
	}{{1, "one day"}, {7, "one week"}, {14, "two weeks"}, {28, "four weeks"}, {10, "ten days"}, {45, "45 days"}, {91, "13 weeks"}} {
		if got := PeriodWords(c.days); got != c.want {
			t.Errorf("PeriodWords(%d) = %q, want %q", c.days, got, c.want)
		}
	}
}

func TestFindingTexts(t *testing.T) {
	day := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name                     string
		f                        Finding
		method, window, baseline string
	}{
		{"farrington, a week against five years",
			Finding{Method: MethodFarrington, WindowFrom: day("2016-07-01"), WindowTo: day("2016-07-07"), Detail: "Farrington-flexible, 5 years of baseline"},
			"Farrington-flexible (baseline exceedance)", "7 days, 1–7 Jul 2016", "the same weeks of the five years before"},
		{"farrington, monthly, one year",
			Finding{Method: MethodFarrington, WindowFrom: day("2016-07-01"), WindowTo: day("2016-07-31"), Detail: "Farrington-flexible on months, 1 year of baseline"},
			"Farrington-flexible (baseline exceedance)", "31 days, 1–31 Jul 2016", "the same months of the year before"},
		{"farrington, baseline not said",
			Finding{Method: MethodFarrington, WindowFrom: day("2016-06-27"), WindowTo: day("2016-07-03")},
			"Farrington-flexible (baseline exceedance)", "7 days, 27 Jun – 3 Jul 2016", "the same weeks of past years"},
		{"EARS C2: a day against the seven days ending three days before",
			Finding{Method: MethodEARS, WindowFrom: day("2016-07-10"), WindowTo: day("2016-07-10"), Detail: "EARS C2"},
			"EARS C2", "1 day, 10 Jul 2016", "the seven days ending three days before, 1–7 Jul 2016"},
		{"EARS C1: the seven days just before",
			Finding{Method: MethodEARS, WindowFrom: day("2016-07-10"), WindowTo: day("2016-07-10"), Detail: "EARS C1"},
			"EARS C1", "1 day, 10 Jul 2016", "the seven days before, 3–9 Jul 2016"},
		{"scan",
			Finding{Method: MethodScan, WindowFrom: day("2016-06-28"), WindowTo: day("2016-07-04")},
			"space-time permutation scan", "7 days, 28 Jun – 4 Jul 2016", "the places' and days' totals over the scan's period, as if place and time were unrelated"},
		{"uplift: the issue's 4 days, not 14",
			Finding{Method: MethodUplift, WindowFrom: day("2016-06-24"), WindowTo: day("2016-06-27"),
				Detail: "After Protest, against the closure (local), the 4 days from 24 Jun 2016 (the event day) to 27 Jun 2016, against the four weeks before, 27 May – 23 Jun 2016"},
			"trigger-event uplift", "4 days, 24–27 Jun 2016", "the four weeks before, 27 May – 23 Jun 2016"},
		{"widespread",
			Finding{Method: "widespread", WindowFrom: day("2016-07-01"), WindowTo: day("2016-07-31")},
			"widespread rise", "31 days, 1–31 Jul 2016", ""},
		{"no window",
			Finding{Method: "knox"}, "knox", "–", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.f.MethodName(); got != c.method {
				t.Errorf("MethodName: got %q, want %q", got, c.method)
			}
			if got := c.f.WindowText(); got != c.window {
				t.Errorf("WindowText: got %q, want %q", got, c.window)
			}
			if got := c.f.BaselineText(); got != c.baseline {
				t.Errorf("BaselineText: got %q, want %q", got, c.baseline)
			}
		})
	}
}

// TestUpliftDetail checks that the uplift's text says the days the window covers,
// in dates, and its baseline in words (the issue: "14 days after ..., against -28
// to -1" when 4 days had passed).
func TestUpliftDetail(t *testing.T) {
	start := time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC)
	e := TriggerEvent{ID: 27, Day: start.AddDate(0, 0, 389), Scope: "national", Description: "Referendum result"}
	ev := 389 // 24 Jun 2016
	prior := UpliftComparison{Available: true, FirstDay: ev - 28, LastDay: ev - 1}
	for _, c := range []struct {
		name string
		w    UpliftWindow
		c    UpliftComparison
		want string
	}{
		{"a 14-day window that has covered 4 days, against the four weeks before",
			UpliftWindow{Days: 14, FirstDay: ev, LastDay: ev + 3}, prior,
			"After Referendum result (national), the 4 days from 24 Jun 2016 (the event day) to 27 Jun 2016, against the four weeks before, 27 May – 23 Jun 2016"},
		{"a full 14-day window against the same days a year earlier",
			UpliftWindow{Days: 14, FirstDay: ev, LastDay: ev + 13}, UpliftComparison{Available: true, FirstDay: ev - 364, LastDay: ev - 364 + 13},
			"After Referendum result (national), the 14 days from 24 Jun 2016 (the event day) to 7 Jul 2016, against the same days a year earlier, 26 Jun – 9 Jul 2015"},
		{"the event day alone",
			UpliftWindow{Days: 2, FirstDay: ev, LastDay: ev}, prior,
			"After Referendum result (national), the event day, 24 Jun 2016, against the four weeks before, 27 May – 23 Jun 2016"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := upliftDetail(e, c.w, c.c, start)
			if got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			f := Finding{Method: MethodUplift, Detail: got}
			if b := f.BaselineText(); b == "" || b[:4] != "the " {
				t.Errorf("BaselineText of %q: got %q, want the baseline in words", got, b)
			}
		})
	}
}
