package synth

import (
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

func TestOptionsRejected(t *testing.T) {
	for _, o := range []Options{
		{Rows: 0, Years: 1},
		{Rows: -5, Years: 1},
		{Rows: MaxRows + 1, Years: 1},
		{Rows: 10, Years: 0},
		{Rows: 10, Years: MaxYears + 1},
		{Rows: 10, Years: 5, End: time.Date(1902, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Rows: 10, Years: 1, LatestEvent: -1},
		{Rows: 10, Years: 1, LatestEvent: 61},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		} else if geo.ErrorCode(err) != geo.EINVALID {
			t.Errorf("New(%+v): %v, want an invalid error", o, err)
		}
	}
	g, err := New(Options{Rows: 1, Years: 1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if e := g.Options().End; e.Year() != now.Year() || e.YearDay() != now.YearDay() || e.Hour() != 0 || e.Location() != time.UTC {
		t.Errorf("zero End became %v, want today (UTC) %v", e, now)
	}
	g, err = New(Options{Rows: 1, Years: 1, End: time.Date(2024, 3, 31, 23, 59, 0, 0, time.FixedZone("BST", 3600))})
	if err != nil {
		t.Fatal(err)
	}
	if e := g.Options().End; !e.Equal(time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("End became %v, want its calendar day 2024-03-31", e)
	}
}

func TestEveryRecordValidates(t *testing.T) {
	g := newGen(t, 7, 20000, 2)
	v, err := geo.NewValidator(geo.ValidatorOptions{Key: []byte("test"), Now: func() time.Time { return testEnd.AddDate(0, 0, 1) }})
	if err != nil {
		t.Fatal(err)
	}
	start, end := g.Start(), g.Options().End
	n := 0
	err = g.Incidents(func(r *geo.RawIncident) error {
		in, err := v.Validate(r)
		if err != nil {
			t.Fatalf("record %d %+v: %v", r.Index, r, err)
		}
		if in.OccurredFrom.Before(start) || in.OccurredTo.After(end) {
			t.Fatalf("record %d occurred %v-%v outside %v-%v", r.Index, in.OccurredFrom, in.OccurredTo, start, end)
		}
		if !in.ReportedAt.IsZero() && (in.ReportedAt.Before(in.OccurredTo) || in.ReportedAt.After(end.AddDate(0, 0, 1))) {
			t.Fatalf("record %d reported %v, occurred to %v, end %v", r.Index, in.ReportedAt, in.OccurredTo, end)
		}
		for _, c := range []string{r.Lat, r.Lon} {
			if c == "" {
				continue
			}
			f, _ := strconv.ParseFloat(c, 64)
			if geo.FormatCoord(f) != c {
				t.Fatalf("record %d coordinate %q is not as geo.FormatCoord writes it", r.Index, c)
			}
		}
		if in.Precision.Located() != (r.Lat != "") {
			t.Fatalf("record %d: precision %s with lat %q", r.Index, in.Precision, r.Lat)
		}
		n++
		return nil
	})
	if err != nil || n != 20000 {
		t.Fatalf("%d records, %v", n, err)
	}
}

func TestRowsDatesOrder(t *testing.T) {
	for _, c := range []struct{ rows, years int }{{1, 1}, {7, 1}, {1000, 1}, {30000, 3}, {5000, 10}} {
		g := newGen(t, 3, c.rows, c.years)
		start, end := g.Start(), g.Options().End
		if want := end.AddDate(-c.years, 0, 1); !start.Equal(want) {
			t.Errorf("start %v, want %v", start, want)
		}
		last := start
		n := 0
		err := g.Incidents(func(r *geo.RawIncident) error {
			if r.Index != n || r.Line != n+2 {
				t.Fatalf("record %d has index %d line %d", n, r.Index, r.Line)
			}
			day := r.Occurred
			if day == "" {
				day = r.OccurredFrom
				if r.OccurredTo <= r.OccurredFrom {
					t.Fatalf("record %d: range %s to %s", n, r.OccurredFrom, r.OccurredTo)
				}
			}
			d, err := time.Parse(time.DateOnly, day)
			if err != nil {
				t.Fatal(err)
			}
			if d.Before(last) {
				t.Fatalf("record %d on %s comes after %s", n, day, last.Format(time.DateOnly))
			}
			if d.After(end) {
				t.Fatalf("record %d on %s is after the end %s", n, day, end.Format(time.DateOnly))
			}
			last = d
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != c.rows {
			t.Errorf("rows %d years %d: got %d records", c.rows, c.years, n)
		}
		if c.rows >= 1000 && !last.Equal(end) {
			t.Errorf("rows %d years %d: last day %v, want %v", c.rows, c.years, last, end)
		}
	}
}

func TestDeterminism(t *testing.T) {
	all := func(g *Generator) []geo.RawIncident {
		var out []geo.RawIncident
		g.Incidents(func(r *geo.RawIncident) error { out = append(out, *r); return nil })
		return out
	}
	a, b, c := newGen(t, 11, 20000, 2), newGen(t, 11, 20000, 2), newGen(t, 12, 20000, 2)
	ra, rb, rc := all(a), all(b), all(c)
	if !reflect.DeepEqual(ra, rb) {
		t.Error("two runs with the same seed differ")
	}
	if !reflect.DeepEqual(ra, all(a)) {
		t.Error("a second run of the same generator differs")
	}
	same := 0
	for i := range ra {
		if ra[i] == rc[i] {
			same++
		}
	}
	if same > len(ra)/100 {
		t.Errorf("seeds 11 and 12 share %d of %d records", same, len(ra))
	}
	if !reflect.DeepEqual(a.Areas(), b.Areas()) || !reflect.DeepEqual(a.Events(), b.Events()) || !reflect.DeepEqual(a.Spikes(), b.Spikes()) {
		t.Error("areas, events or spikes differ for the same seed")
	}
	if reflect.DeepEqual(a.Areas(), c.Areas()) || reflect.DeepEqual(a.Events(), c.Events()) {
		t.Error("areas or events are the same for different seeds")
	}
	// The town depends on the seed alone.
	if d := newGen(t, 11, 500, 5); !reflect.DeepEqual(a.Areas(), d.Areas()) {
		t.Error("the areas change with rows and years")
	}
}

func TestReader(t *testing.T) {
	g := newGen(t, 5, 3000, 1)
	if sp := g.Spikes(); len(sp) == 0 || sp[0].Refs != nil {
		t.Fatalf("before any stream: %d spikes, refs %v", len(sp), sp[0].Refs)
	}
	var want []geo.RawIncident
	g.Incidents(func(r *geo.RawIncident) error { want = append(want, *r); return nil })
	spikes := g.Spikes()

	// A fresh generator read through the Reader gives the same records and refs.
	g2 := newGen(t, 5, 3000, 1)
	rd := g2.Reader()
	for i := 0; ; i++ {
		r, err := rd.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Fatalf("EOF after %d records, want %d", i, len(want))
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if *r != want[i] {
			t.Fatalf("record %d differs: %+v vs %+v", i, *r, want[i])
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("Next after EOF: %v", err)
	}
	if !reflect.DeepEqual(g2.Spikes(), spikes) {
		t.Error("spikes after reading differ from spikes after Incidents")
	}

	// Stopping early is fine and leaves the refs of the complete run.
	rd = g.Reader()
	for i := 0; i < 10; i++ {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("stop")
	if err := g.Incidents(func(r *geo.RawIncident) error { return stop }); err != stop {
		t.Errorf("Incidents returned %v, want yield's error", err)
	}
	if !reflect.DeepEqual(g.Spikes(), spikes) {
		t.Error("a stopped stream changed the spikes")
	}
}

// The demo's latest event: national, in the largest strand, the given days before
// the end, with its spike running to the end and no other event within three weeks
// of it or after it; the rest of the plan as the seed has it.
func TestLatestEvent(t *testing.T) {
	for _, days := range []int{1, 5, 12} {
		g, err := New(Options{Seed: 3, Rows: 50_000, Years: 2, End: testEnd, LatestEvent: days})
		if err != nil {
			t.Fatal(err)
		}
		evs := g.Events()
		last := evs[len(evs)-1]
		if want := testEnd.AddDate(0, 0, -days); !last.Date.Equal(want) || last.Scope != ScopeNational || !slices.Contains(last.Strands, "race") {
			t.Errorf("latest %d: the last event is %+v; want a national event with race on %s", days, last, want.Format(time.DateOnly))
		}
		for _, e := range evs[:len(evs)-1] {
			if gap := last.Date.Sub(e.Date).Hours() / 24; gap < eventGapDays {
				t.Errorf("latest %d: event %s is %.0f days before the latest", days, e.Date.Format(time.DateOnly), gap)
			}
		}
		sp := g.Spikes()
		s := sp[len(sp)-1]
		if !s.Event.Date.Equal(last.Date) || s.RadiusM != 0 || s.End.After(testEnd) || s.Injected == 0 {
			t.Errorf("latest %d: its spike is %+v", days, s)
		}
		if days >= 2 && !s.End.Equal(testEnd) {
			t.Errorf("latest %d: its spike ends %s, before the end of the data", days, s.End.Format(time.DateOnly))
		}
	}
	// Without it, the same seed plans as before, and with it the earlier years stay.
	a, b := newGen(t, 3, 50_000, 2), must(New(Options{Seed: 3, Rows: 50_000, Years: 2, End: testEnd, LatestEvent: 5}))
	if ea, eb := a.Events(), b.Events(); !slices.EqualFunc(ea[:4], eb[:4], func(x, y TriggerEvent) bool { return x.Date.Equal(y.Date) }) {
		t.Errorf("the first year's events moved: %v against %v", ea[:4], eb[:4])
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
