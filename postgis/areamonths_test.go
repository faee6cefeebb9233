package postgis_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// TestAreaCountsMonthlyEqualsDaily checks that the area counts read from whole months
// of the monthly roll-up and the partial months from the daily one equal those read
// from the daily roll-up alone, for random periods (open ends, single days, month
// edges, periods beyond the data) and filters, at every level.
func TestAreaCountsMonthlyEqualsDaily(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 8000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})
	if _, err := p.ingest(ctx, t, g.Reader(), 1000); err != nil {
		t.Fatal(err)
	}
	checkRollups(t, db, geo.DefaultResolutions)
	levels, err := db.AreaLevels(ctx)
	if err != nil || len(levels) == 0 {
		t.Fatalf("levels %v: %v", levels, err)
	}
	first := testEnd.AddDate(-2, 0, -20)
	span := int(testEnd.Sub(first).Hours()/24) + 40
	day := func(r *rand.Rand) time.Time { return first.AddDate(0, 0, r.IntN(span)) }
	monthStart := func(r *rand.Rand) time.Time {
		d := day(r)
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	r := rand.New(rand.NewPCG(11, 29))
	type period struct{ from, to time.Time }
	periods := []period{{}, {from: first}, {to: testEnd}, {from: testEnd, to: testEnd},
		{from: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)},
		{from: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC), to: time.Date(2025, 4, 30, 0, 0, 0, 0, time.UTC)},
		{from: time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC), to: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}}
	for range 40 {
		a, b := day(r), day(r)
		switch r.IntN(4) {
		case 0:
			a = monthStart(r)
		case 1:
			b = monthStart(r).AddDate(0, 1, -1)
		}
		if b.Before(a) {
			a, b = b, a
		}
		switch r.IntN(6) {
		case 0:
			a = time.Time{}
		case 1:
			b = time.Time{}
		}
		periods = append(periods, period{a, b})
	}
	filters := []geo.Filter{{}, {Strands: []string{geo.DefaultStrands[0]}}, {Kinds: []geo.Kind{geo.KindCrime}},
		{Sources: []string{geo.DefaultSources[0]}, Strands: []string{geo.DefaultStrands[1], geo.DefaultStrands[2]}}}
	nonzero := 0
	for i, pd := range periods {
		f := filters[i%len(filters)]
		f.From, f.To = pd.from, pd.to
		for _, level := range levels {
			fast, err := db.AreaCounts(ctx, level, f)
			if err != nil {
				t.Fatal(err)
			}
			daily, err := db.AreaCountsDaily(ctx, level, f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, daily) {
				t.Errorf("level %s, %s to %s, filter %+v: monthly and daily counts differ", level,
					pd.from.Format(time.DateOnly), pd.to.Format(time.DateOnly), f)
			}
			for _, c := range daily {
				if c.Count > 0 {
					nonzero++
				}
			}
		}
	}
	if nonzero == 0 {
		t.Fatal("every compared count is 0: the data did not load")
	}
}
