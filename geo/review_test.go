package geo

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestPctChange(t *testing.T) {
	for _, c := range []struct {
		cur, prev int
		want      float64
		ok        bool
	}{
		{10, 4, 150, true},
		{4, 10, -60, true},
		{7, 7, 0, true},
		{0, 5, -100, true},
		{3, 0, 0, false},
		{0, 0, 0, false},
		{1, 3, 100.0 * -2 / 3, true},
	} {
		got, ok := PctChange(c.cur, c.prev)
		if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("PctChange(%d, %d) = %v, %v; want %v, %v", c.cur, c.prev, got, ok, c.want, c.ok)
		}
	}
}

func TestRate(t *testing.T) {
	for _, c := range []struct {
		count, population int
		want              float64
		ok                bool
	}{
		{4, 2000, 2, true},
		{2, 500, 4, true},
		{0, 1500, 0, true},
		{3, 1600, 1.875, true},
		{5, 0, 0, false},
		{0, 0, 0, false},
	} {
		got, ok := Rate(c.count, c.population)
		if ok != c.ok || got != c.want {
			t.Errorf("Rate(%d, %d) = %v, %v; want %v, %v", c.count, c.population, got, ok, c.want, c.ok)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{[]float64{}, 0, false},
		{[]float64{7}, 7, true},
		{[]float64{5, 0, 2}, 2, true},
		{[]float64{5, 2}, 3.5, true},
		{[]float64{5, 0, 2, 0}, 1, true},
		{[]float64{3, 3, 3, 9, 1}, 3, true},
		{[]float64{-1, 1.5}, 0.25, true},
	} {
		in := slices.Clone(c.xs)
		got, ok := Median(c.xs)
		if ok != c.ok || (ok && got != c.want) || (!ok && !math.IsNaN(got)) {
			t.Errorf("Median(%v) = %v, %v; want %v, %v", c.xs, got, ok, c.want, c.ok)
		}
		if !slices.Equal(in, c.xs) {
			t.Errorf("Median reordered its input: %v, was %v", c.xs, in)
		}
	}
}

func reviewAreaCodes(areas []ReviewArea) []string {
	out := []string{}
	for _, a := range areas {
		out = append(out, a.Code)
	}
	return out
}

func TestRankByRate(t *testing.T) {
	areas := []ReviewArea{
		{Code: "E4", Population: 1000, Count: 3}, // 3.0
		{Code: "E1", Population: 0, Count: 50},   // unknown population: left out
		{Code: "E3", Population: 2000, Count: 6}, // 3.0, a tie with E4
		{Code: "E2", Population: 400, Count: 2},  // 5.0
		{Code: "E5", Population: 300, Count: 0},  // 0.0
		{Code: "E0", Population: 3, Count: 1},    // 333.3...
		{Code: "E6", Population: 6, Count: 2},    // 333.3..., a tie with E0 in exact arithmetic
	}
	before := slices.Clone(areas)
	for _, c := range []struct {
		limit int
		want  []string
	}{
		{0, []string{"E0", "E6", "E2", "E3", "E4", "E5"}},
		{-1, []string{"E0", "E6", "E2", "E3", "E4", "E5"}},
		{3, []string{"E0", "E6", "E2"}},
		{10, []string{"E0", "E6", "E2", "E3", "E4", "E5"}},
	} {
		if got := reviewAreaCodes(RankByRate(areas, c.limit)); !slices.Equal(got, c.want) {
			t.Errorf("limit %d: got %v, want %v", c.limit, got, c.want)
		}
	}
	if !slices.Equal(areas, before) {
		t.Error("RankByRate reordered its input")
	}
	if got := RankByRate([]ReviewArea{{Code: "X", Count: 4}}, 5); len(got) != 0 {
		t.Errorf("areas without population: got %v, want none", got)
	}
}

func TestRankByRise(t *testing.T) {
	areas := []ReviewArea{
		{Code: "E3", Count: 4, Previous: 3},  // +1
		{Code: "E1", Count: 2, Previous: 1},  // +1, before E3 by code
		{Code: "E5", Count: 2, Previous: 0},  // +2
		{Code: "E2", Count: 0, Previous: 6},  // -6
		{Code: "E4", Count: 5, Previous: 5},  // 0
		{Code: "E0", Count: 9, Previous: 10}, // -1
	}
	before := slices.Clone(areas)
	for _, c := range []struct {
		limit int
		want  []string
	}{
		{0, []string{"E5", "E1", "E3", "E4", "E0", "E2"}},
		{2, []string{"E5", "E1"}},
		{3, []string{"E5", "E1", "E3"}},
	} {
		if got := reviewAreaCodes(RankByRise(areas, c.limit)); !slices.Equal(got, c.want) {
			t.Errorf("limit %d: got %v, want %v", c.limit, got, c.want)
		}
	}
	if !slices.Equal(areas, before) {
		t.Error("RankByRise reordered its input")
	}
	if got := RankByRise(nil, 3); len(got) != 0 {
		t.Errorf("no areas: got %v", got)
	}
}

func TestReviewAreaRateAndRise(t *testing.T) {
	a := ReviewArea{Code: "E1", Population: 2500, Count: 5, Previous: 8}
	if r, ok := a.Rate(); !ok || r != 2 {
		t.Errorf("rate %v %v, want 2 true", r, ok)
	}
	if a.Rise() != -3 {
		t.Errorf("rise %d, want -3", a.Rise())
	}
	if _, ok := (ReviewArea{Count: 5}).Rate(); ok {
		t.Error("a rate without population")
	}
}

func TestYearEarlier(t *testing.T) {
	for _, c := range []struct{ in, want time.Time }{
		{day(2026, 3, 31), day(2025, 3, 31)},
		{day(2026, 1, 1), day(2025, 1, 1)},
		{day(2024, 2, 29), day(2023, 2, 28)},
		{day(2025, 2, 28), day(2024, 2, 28)},
		{day(2025, 3, 1), day(2024, 3, 1)},
		{time.Date(2026, 6, 30, 23, 30, 0, 0, time.FixedZone("BST", 3600)), day(2025, 6, 30)},
	} {
		if got := YearEarlier(c.in); !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("YearEarlier(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestReviewQueryNormalise(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC on 31 March 2026 is already 1 April in London.
	now := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	q, err := ReviewQuery{From: time.Date(2026, 1, 1, 15, 0, 0, 0, time.UTC), To: day(2026, 3, 31), Location: london}.Normalise(now)
	if err != nil {
		t.Fatal(err)
	}
	if !q.From.Equal(day(2026, 1, 1)) || !q.To.Equal(day(2026, 3, 31)) || !q.Today.Equal(day(2026, 4, 1)) || q.Location != london {
		t.Errorf("normalised: %+v", q)
	}
	q, err = ReviewQuery{From: day(2026, 1, 1), To: day(2026, 1, 1), Today: time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC)}.Normalise(now)
	if err != nil || !q.Today.Equal(day(2026, 5, 2)) || q.Location != time.UTC {
		t.Errorf("one day: %+v, %v", q, err)
	}
	for _, bad := range []ReviewQuery{
		{From: day(2026, 3, 31), To: day(2026, 1, 1)},
		{To: day(2026, 1, 1)},
		{From: day(2026, 1, 1)},
	} {
		if _, err := bad.Normalise(now); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: got %v, want EINVALID", bad, err)
		}
	}
}
