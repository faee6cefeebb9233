package postgis

import (
	"testing"
	"time"
)

// TestSplitPeriodCoversEveryDay checks that the parts of a period (whole years,
// whole months, edge days) count every day of it once and no day outside it, for
// every start and end over three years around a leap day, by steps that meet every
// day of a month and every month.
func TestSplitPeriodCoversEveryDay(t *testing.T) {
	base := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3*366; i += 5 {
		lo := base.AddDate(0, 0, i)
		for j := 0; j < 3*366-i; j += 7 {
			hi := lo.AddDate(0, 0, j)
			p := splitPeriod(lo, hi)
			seen := map[time.Time]int{}
			for _, d := range p.days {
				for x := d[0]; x.Before(d[1]); x = x.AddDate(0, 0, 1) {
					seen[x]++
				}
			}
			for _, m := range p.months {
				for x := m[0]; x.Before(m[1]); x = x.AddDate(0, 1, 0) {
					if x.Day() != 1 {
						t.Fatalf("%s to %s: month part starts on %s", lo.Format(time.DateOnly), hi.Format(time.DateOnly), x.Format(time.DateOnly))
					}
					for y := x; y.Before(x.AddDate(0, 1, 0)); y = y.AddDate(0, 0, 1) {
						seen[y]++
					}
				}
			}
			for x := p.years[0]; x.Before(p.years[1]); x = x.AddDate(1, 0, 0) {
				if x.Day() != 1 || x.Month() != time.January {
					t.Fatalf("%s to %s: year part starts on %s", lo.Format(time.DateOnly), hi.Format(time.DateOnly), x.Format(time.DateOnly))
				}
				for y := x; y.Before(x.AddDate(1, 0, 0)); y = y.AddDate(0, 0, 1) {
					seen[y]++
				}
			}
			if len(seen) != j+1 {
				t.Fatalf("%s to %s: %d days counted, want %d", lo.Format(time.DateOnly), hi.Format(time.DateOnly), len(seen), j+1)
			}
			for x := lo; !x.After(hi); x = x.AddDate(0, 0, 1) {
				if seen[x] != 1 {
					t.Fatalf("%s to %s: %s counted %d times", lo.Format(time.DateOnly), hi.Format(time.DateOnly), x.Format(time.DateOnly), seen[x])
				}
			}
		}
	}
}
