package synth

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

var testEnd = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)

func newGen(t testing.TB, seed int64, rows, years int) *Generator {
	t.Helper()
	g, err := New(Options{Seed: seed, Rows: rows, Years: years, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// rec is the part of a record the statistical tests look at.
type rec struct {
	day      int // days since the generator's start, of the first day it may have occurred
	to       int // last day it may have occurred
	reported int // day of report
	strands  uint8
	nStrands int
	kind     string
	source   string
	ref      string
	prec     string
	located  bool
	lat, lon float64
	victim   string
	offender string
	offence  string
}

func strandBit(s string) uint8 {
	i := slices.Index(geo.DefaultStrands, s)
	if i < 0 {
		panic("unknown strand " + s)
	}
	return 1 << i
}

func dayIndex(start time.Time, s string) int {
	d, err := time.Parse(time.DateOnly, s[:10])
	if err != nil {
		panic(err)
	}
	return int(math.Round(d.Sub(start).Hours() / 24))
}

func parseRec(start time.Time, r *geo.RawIncident) rec {
	x := rec{kind: r.Kind, source: r.Source, ref: r.SourceRef, prec: r.Precision, victim: r.VictimRef, offender: r.OffenderRef, offence: r.Offence}
	if r.Occurred != "" {
		x.day = dayIndex(start, r.Occurred)
		x.to = x.day
	} else {
		x.day = dayIndex(start, r.OccurredFrom)
		x.to = dayIndex(start, r.OccurredTo)
	}
	x.reported = dayIndex(start, r.ReportedAt)
	for _, s := range strings.Split(r.Strands, ";") {
		x.strands |= strandBit(s)
		x.nStrands++
	}
	if r.Lat != "" {
		x.located = true
		x.lat, _ = strconv.ParseFloat(r.Lat, 64)
		x.lon, _ = strconv.ParseFloat(r.Lon, 64)
	}
	return x
}

// collect streams a generator's records into recs.
func collect(t testing.TB, g *Generator) []rec {
	t.Helper()
	start := g.Start()
	out := make([]rec, 0, g.Options().Rows)
	if err := g.Incidents(func(r *geo.RawIncident) error {
		out = append(out, parseRec(start, r))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func share(n, of int) float64 { return float64(n) / float64(of) }

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s: share %.4f, want %.4f ± %.4f", what, got, want, tol)
	} else {
		t.Logf("%s: %.4f (want %.4f ± %.4f)", what, got, want, tol)
	}
}
