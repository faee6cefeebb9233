package engine_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// sameSeries fails unless a and b hold the same units (matched by name) with the
// same counts under every strand.
func sameSeries(t *testing.T, what string, a, b *tension.Series, unitsA, unitsB []string) {
	t.Helper()
	if !a.From.Equal(b.From) || !a.To.Equal(b.To) {
		t.Fatalf("%s: span %s..%s, want %s..%s", what, a.From, a.To, b.From, b.To)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(a.Counts)), slices.Sorted(maps.Keys(b.Counts))) || len(unitsA) != len(unitsB) {
		t.Fatalf("%s: strands %v and %d units, want %v and %d", what, slices.Sorted(maps.Keys(a.Counts)), len(unitsA), slices.Sorted(maps.Keys(b.Counts)), len(unitsB))
	}
	index := map[string]int{}
	for i, u := range unitsB {
		index[u] = i
	}
	for strand, rows := range a.Counts {
		for i, u := range unitsA {
			j, ok := index[u]
			if !ok {
				t.Fatalf("%s: unit %s not in the source's answer", what, u)
			}
			if !slices.Equal(rows[i], b.Counts[strand][j]) {
				t.Fatalf("%s %s strand %q: %v, want %v", what, u, strand, rows[i], b.Counts[strand][j])
			}
		}
	}
}

// TestPreloadAnswersAsTheSource asks a Preload and its source the same questions, in
// the order a backfill asks them (the earliest span first, later days after), and
// wants the same answers.
func TestPreloadAnswersAsTheSource(t *testing.T) {
	ctx := context.Background()
	end := time.Date(2026, 6, 28, 0, 0, 0, 0, time.UTC)
	g, err := synth.New(synth.Options{Seed: 3, Rows: 6000, Years: 3, End: end})
	if err != nil {
		t.Fatal(err)
	}
	src, _, err := engine.SynthSource(g, geo.DefaultStrands)
	if err != nil {
		t.Fatal(err)
	}
	pre := engine.NewPreload(src, end)
	cells := func(cs []uint64) []string {
		var out []string
		for _, c := range cs {
			out = append(out, geo.CellString(c))
		}
		return out
	}
	codes := func(as []geo.Area) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Code)
		}
		return out
	}
	levels, _ := src.AreaLevels(ctx)
	for _, asOf := range []time.Time{end.AddDate(0, -6, 0), end.AddDate(0, -3, 0), end.AddDate(0, 0, -1), end, end.AddDate(0, 0, 5)} {
		for _, span := range []int{1, 38, 182, 800} {
			from := asOf.AddDate(0, 0, -span+1)
			name := asOf.Format(time.DateOnly) + " back " + time.Duration(span*24*int(time.Hour)).String()
			for _, level := range levels {
				pa, ps, err := pre.AreaDays(ctx, level, from, asOf)
				if err != nil {
					t.Fatal(err)
				}
				sa, ss, _ := src.AreaDays(ctx, level, from, asOf)
				sameSeries(t, name+" areas "+level, ps, ss, codes(pa), codes(sa))
			}
			for _, res := range []int{7, 8} {
				pc, ps, err := pre.CellDays(ctx, res, from, asOf)
				if err != nil {
					t.Fatal(err)
				}
				sc, ss, _ := src.CellDays(ctx, res, from, asOf)
				sameSeries(t, name+" cells", ps, ss, cells(pc), cells(sc))
			}
			pcity, err := pre.CityDays(ctx, from, asOf)
			if err != nil {
				t.Fatal(err)
			}
			scity, _ := src.CityDays(ctx, from, asOf)
			sameSeries(t, name+" city", pcity, scity, []string{"city"}, []string{"city"})
		}
	}
}
