package postgis_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
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

// halfReader passes on the records of a reader whose index has the parity odd.
type halfReader struct {
	r   geo.Reader
	odd int
}

func (h *halfReader) Next() (*geo.RawIncident, error) {
	for {
		raw, err := h.r.Next()
		if err != nil || raw.Index%2 == h.odd {
			return raw, err
		}
	}
}

// freshAreaCounts counts the incidents table itself for the area counts of a level
// and a filter: the reference the roll-ups must equal.
func freshAreaCounts(tb testing.TB, db *postgis.DB, level string, f geo.Filter) []geo.AreaCount {
	tb.Helper()
	ctx := context.Background()
	v, err := db.Vocab(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var from, to, kinds, sources any
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.To.IsZero() {
		to = f.To
	}
	var mask int64
	for _, s := range f.Strands {
		mask |= 1 << v.StrandBit[geo.NormaliseName(s)]
	}
	if len(f.Kinds) > 0 {
		var ks []int16
		for _, k := range f.Kinds {
			if k == geo.KindIncident {
				ks = append(ks, 1)
			} else {
				ks = append(ks, 0)
			}
		}
		kinds = ks
	}
	if len(f.Sources) > 0 {
		var ns []string
		for _, s := range f.Sources {
			ns = append(ns, geo.NormaliseName(s))
		}
		sources = ns
	}
	rows, err := db.Pool.Query(ctx, `SELECT a.id, a.level, a.code, a.name, coalesce(a.population, 0),
			coalesce(i.kind, 0), coalesce(s.name, ''), coalesce(i.strands, 0), count(i.id)
		FROM areas a
		LEFT JOIN (incidents i JOIN sources s ON s.id = i.source_id) ON a.id = ANY(i.areas)
			AND ($2::date IS NULL OR i.occurred_from >= $2) AND ($3::date IS NULL OR i.occurred_from <= $3)
			AND ($4::bigint = 0 OR i.strands & $4 <> 0) AND ($5::smallint[] IS NULL OR i.kind = ANY($5))
			AND ($6::text[] IS NULL OR s.name = ANY($6))
		WHERE a.level = $1
		GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY a.code`, level, from, to, mask, kinds, sources)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []geo.AreaCount
	for rows.Next() {
		var a geo.Area
		var kind int16
		var source string
		var strands, n int64
		if err := rows.Scan(&a.ID, &a.Level, &a.Code, &a.Name, &a.Population, &kind, &source, &strands, &n); err != nil {
			tb.Fatal(err)
		}
		if len(out) == 0 || out[len(out)-1].Area.ID != a.ID {
			out = append(out, geo.AreaCount{Area: a, ByStrand: map[string]int{}, BySource: map[string]int{}})
		}
		if n == 0 {
			continue
		}
		c := &out[len(out)-1]
		c.Count += int(n)
		if kind == 0 {
			c.Crimes += int(n)
		} else {
			c.Incidents += int(n)
		}
		for _, s := range v.StrandNames(strands) {
			c.ByStrand[s] += int(n)
		}
		c.BySource[source] += int(n)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestAreaCountsEqualFreshCount checks the area counts (the tree of monthly counts
// and the daily rows at either end) against a count of the incidents table over
// random periods (open ends, single days, month and year edges, years long) and
// random filters of strands, kinds and sources, at every level: after a first
// ingest, after a second one that adds to the same months, and after the roll-ups
// are rebuilt.
func TestAreaCountsEqualFreshCount(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g := demo(t, 6000)
	importDemoAreas(t, db, g)
	p := newPipeline(t, db, geo.Defaults{})
	levels, err := db.AreaLevels(ctx)
	if err != nil || len(levels) == 0 {
		t.Fatalf("levels %v: %v", levels, err)
	}
	r := rand.New(rand.NewPCG(5, 17))
	first := testEnd.AddDate(-2, 0, -40)
	span := int(testEnd.Sub(first).Hours()/24) + 80
	day := func() time.Time { return first.AddDate(0, 0, r.IntN(span)) }
	randomFilter := func() geo.Filter {
		var f geo.Filter
		for _, s := range geo.DefaultStrands {
			if r.IntN(4) == 0 {
				f.Strands = append(f.Strands, s)
			}
		}
		switch r.IntN(3) {
		case 0:
			f.Kinds = []geo.Kind{geo.KindCrime}
		case 1:
			f.Kinds = []geo.Kind{geo.KindIncident}
		}
		for _, s := range geo.DefaultSources {
			if r.IntN(4) == 0 {
				f.Sources = append(f.Sources, s)
			}
		}
		a, b := day(), day()
		switch r.IntN(5) {
		case 0:
			a = time.Date(a.Year(), a.Month(), 1, 0, 0, 0, 0, time.UTC)
		case 1:
			b = time.Date(b.Year(), b.Month()+1, 0, 0, 0, 0, 0, time.UTC)
		case 2:
			a = time.Date(a.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if b.Before(a) {
			a, b = b, a
		}
		switch r.IntN(8) {
		case 0:
			a = time.Time{}
		case 1:
			b = time.Time{}
		case 2:
			b = a
		}
		f.From, f.To = a, b
		return f
	}
	check := func(stage string) {
		t.Helper()
		nonzero := 0
		for _, f := range append([]geo.Filter{{}}, func() (fs []geo.Filter) {
			for range 30 {
				fs = append(fs, randomFilter())
			}
			return fs
		}()...) {
			for _, level := range levels {
				got, err := db.AreaCounts(ctx, level, f)
				if err != nil {
					t.Fatal(err)
				}
				want := freshAreaCounts(t, db, level, f)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: level %s, filter %+v: the roll-ups' counts differ from the incidents'", stage, level, f)
					for i := range min(len(got), len(want)) {
						if !reflect.DeepEqual(got[i], want[i]) {
							t.Logf("first difference, area %s: got %+v, want %+v", got[i].Area.Code, got[i], want[i])
							break
						}
					}
				}
				for _, c := range want {
					if c.Count > 0 {
						nonzero++
					}
				}
			}
		}
		if nonzero == 0 {
			t.Fatalf("%s: every count is 0: the data did not load", stage)
		}
	}
	if _, err := p.ingest(ctx, t, &halfReader{r: g.Reader(), odd: 0}, 500); err != nil {
		t.Fatal(err)
	}
	check("after the first ingest")
	if _, err := p.ingest(ctx, t, &halfReader{r: g.Reader(), odd: 1}, 700); err != nil {
		t.Fatal(err)
	}
	check("after a second ingest into the same months")
	checkRollups(t, db, geo.DefaultResolutions)
	if err := db.RebuildRollups(ctx, geo.DefaultResolutions); err != nil {
		t.Fatal(err)
	}
	check("after a rebuild of the roll-ups")
}
