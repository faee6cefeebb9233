package tension

// Multi-scale baseline surveillance: Farrington-flexible over every area of every
// level, per strand and all strands, at two time scales, with the false discovery
// rate controlled in explicit families.
//
// Time scales. Weeks (the 7 days ending on the analysis day) and four-weekly
// periods (the 28 days ending on the analysis day, and every 28 days before it:
// 13 a year). Four-weekly periods rather than calendar months because
//
//   - every run judges a complete period ending on the day it runs: a calendar
//     month would leave either a partial current month (its count not comparable
//     with whole months) or a verdict on a month that ended weeks ago;
//   - all periods have the same length: calendar months run from 28 to 31 days,
//     up to 10% of noise in the counts that the model would read as signal;
//   - 13 periods are exactly 52 weeks, so a period and the same period of a past
//     year hold the same weekdays, as the weekly scale's weeks do.
//
// False discovery rate families. One family per area level and time scale, holding
// that level's areas times the strands watched (all strands and each strand):
// Benjamini-Hochberg at FarringtonFDR within it. Families never pool with each
// other, so a level with many small areas cannot drown the significance of a
// level with few large ones, and a week's verdicts do not compete with a
// four-week period's. H3 cells are not a family competing with the areas: they
// only place a rise inside an area that alarmed (its cells are evaluated, with
// their own Benjamini-Hochberg among that area's cells, and those that rose become
// the finding's Cells). Besides sharpening the areas' significance, this skips the
// thousands of cell series a run would otherwise fit.
//
// A rise seen in many areas of a family at once is judged as one widespread
// finding (widespread.go), not as dozens of local ones.

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"golang.org/x/sync/errgroup"
)

// Time scales of the Farrington findings (Finding.Scale).
const (
	ScaleWeek      = "week"
	ScaleFourWeeks = "4 weeks"
)

// timeScale is one length of period Farrington watches.
type timeScale struct {
	name string // ScaleWeek, ScaleFourWeeks
	days int    // 7, 28
	key  string // suffix of the findings' keys: "" for weeks (the keys alerts have always had), ":4w"
	opts FarringtonOptions
}

// FarringtonFourWeekly returns the engine's settings for four-weekly periods (13 a
// year): FarringtonNoufailyPeriods(13) — b=4, w=1 (the period and one on each side,
// 12 weeks, as w=3 is 7 weeks on the weekly scale), noPeriods=10, the half year
// before left out, limit54 = 5 cases in the period itself — with the engine's alpha
// of 0.01 and the sparse floor (FarringtonSparseFloor), as on the weekly scale.
func FarringtonFourWeekly() FarringtonOptions {
	f := FarringtonNoufailyPeriods(13)
	f.Alpha = 0.01
	f.SparseFloor = FarringtonSparseFloor
	return f
}

func farringtonScales(o EngineOptions) []timeScale {
	var out []timeScale
	if o.Farrington.B > 0 {
		out = append(out, timeScale{name: ScaleWeek, days: 7, opts: o.Farrington})
	}
	if o.FarringtonFourWeekly.B > 0 {
		out = append(out, timeScale{name: ScaleFourWeeks, days: 28, key: ":4w", opts: o.FarringtonFourWeekly})
	}
	return out
}

// periodic sums a daily series into periods of n days ending on its last day,
// dropping the oldest partial period: period i of the result covers days
// len-n(k-i)..len-n(k-i)+n-1 of the k periods.
func periodic(daily []float64, n int) []float64 {
	k := len(daily) / n
	out := make([]float64, k)
	off := len(daily) - n*k
	for i := range out {
		for _, v := range daily[off+n*i : off+n*i+n] {
			out[i] += v
		}
	}
	return out
}

// weekly sums a daily series into weeks ending on its last day.
func weekly(daily []float64) []float64 { return periodic(daily, 7) }

// PeriodDays returns the first and last day of the period of n days that ends
// back periods before the one ending on asOf: back 0 is the n days ending on asOf.
func PeriodDays(asOf time.Time, n, back int) (from, to time.Time) {
	to = dayOf(asOf).AddDate(0, 0, -n*back)
	return to.AddDate(0, 0, -n+1), to
}

// farrSeries is one series Farrington watches: an area or a cell, a strand, a scale.
type farrSeries struct {
	place, level, area string
	cell               uint64
	strand             string
	scale              int // index into the run's time scales
	counts             []float64
}

// family names the false discovery rate family of a series.
func (s *farrSeries) family() string { return fmt.Sprintf("%s|%d", s.level, s.scale) }

// farrOutcome is Farrington's verdict on the last period of one series.
type farrOutcome struct {
	result  FarringtonResult
	counts  []float64 // the series from its first period of data
	opts    FarringtonOptions
	skipped bool
}

func (o *farrOutcome) observed() float64 { return o.counts[len(o.counts)-1] }

// farrRun is the state of one run's Farrington step.
type farrRun struct {
	o       EngineOptions
	asOf    time.Time
	scales  []timeScale
	series  []farrSeries
	out     []farrOutcome
	alarmed []bool // survived its family's false discovery rate
	areas   map[string][]geo.Area
	first   []int // per scale, the first period with data anywhere
}

func runFarrington(ctx context.Context, src Source, r *Report, o EngineOptions) error {
	fr := &farrRun{o: o, asOf: r.AsOf, scales: farringtonScales(o), areas: map[string][]geo.Area{}}
	if len(fr.scales) == 0 {
		return nil
	}
	from := r.AsOf.AddDate(0, 0, -fr.span()+1)
	levels, err := levelsOf(ctx, src, o)
	if err != nil {
		return err
	}
	for _, level := range levels {
		areas, s, err := src.AreaDays(ctx, level, from, r.AsOf)
		if err != nil {
			return err
		}
		fr.areas[level] = areas
		for si, sc := range fr.scales {
			for _, strand := range strandKeys(o) {
				rows := s.Counts[strand]
				if rows == nil {
					continue
				}
				for i, a := range areas {
					fr.series = append(fr.series, farrSeries{place: "area:" + a.Code, level: level, area: a.Code, strand: strand,
						scale: si, counts: periodic(rows[i], sc.days)})
				}
			}
		}
	}
	// Leading periods before the first data of a scale anywhere are trimmed: they
	// are before the data began, not periods without incidents.
	fr.first = make([]int, len(fr.scales))
	for si := range fr.scales {
		fr.first[si] = firstData(fr.series, si)
	}
	fr.out, err = fr.evaluate(ctx, fr.series)
	if err != nil {
		return err
	}
	fr.control(r)
	wide := fr.widespread(r)
	locals := fr.locals(r, wide)
	findings := append(wide, locals...)
	if err := fr.placeCells(ctx, src, r, findings); err != nil {
		return err
	}
	r.Findings = append(r.Findings, findings...)
	return nil
}

// span is the days of history the longest scale reads.
func (fr *farrRun) span() int {
	n := 0
	for _, sc := range fr.scales {
		n = max(n, sc.days*(sc.opts.Freq*sc.opts.B+sc.opts.W+1))
	}
	return n
}

// evaluate runs Farrington on the last period of every series, in parallel.
func (fr *farrRun) evaluate(ctx context.Context, all []farrSeries) ([]farrOutcome, error) {
	results := make([]farrOutcome, len(all))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range all {
		goRecover(g, func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			s := &all[i]
			results[i] = farringtonOne(fr.trim(s), fr.scales[s.scale].opts, fr.o.FarringtonMinYears)
			return nil
		})
	}
	return results, g.Wait()
}

// trim returns a series from the first period of data of its scale.
func (fr *farrRun) trim(s *farrSeries) []float64 {
	return s.counts[min(fr.first[s.scale], len(s.counts)):]
}

func firstData(all []farrSeries, scale int) int {
	first := math.MaxInt
	for _, s := range all {
		if s.scale != scale {
			continue
		}
		for i, v := range s.counts {
			if v > 0 {
				first = min(first, i)
				break
			}
		}
	}
	if first == math.MaxInt {
		return 0
	}
	return first
}

// farringtonOne evaluates the last period of a series, B shrunk to its history
// down to minYears.
func farringtonOne(counts []float64, fo FarringtonOptions, minYears int) farrOutcome {
	t := len(counts) - 1
	for fo.B > minYears && t < FarringtonFirstWeek(fo) {
		fo.B--
	}
	if t < FarringtonFirstWeek(fo) {
		return farrOutcome{skipped: true}
	}
	res, err := Farrington(counts, t, fo)
	if err != nil {
		return farrOutcome{skipped: true}
	}
	return farrOutcome{result: res, counts: counts, opts: fo}
}

// pValue is an outcome's p-value for the false discovery rate: 1 when it could
// not alarm.
func (o *farrOutcome) pValue() float64 {
	p := o.result.PValue
	if o.skipped || math.IsNaN(p) || o.result.Reason != "" {
		return 1
	}
	return p
}

// control applies Benjamini-Hochberg within each family (area level x time scale)
// and marks the alarms that survive.
func (fr *farrRun) control(r *Report) {
	fr.alarmed = make([]bool, len(fr.series))
	fams := map[string][]int{}
	for i := range fr.series {
		if fr.out[i].skipped {
			r.Counts["farrington_skipped"]++
			continue
		}
		r.Counts["farrington_series"]++
		fam := fr.series[i].family()
		fams[fam] = append(fams[fam], i)
	}
	r.Counts["farrington_families"] = len(fams)
	for _, idx := range fams {
		ps := make([]float64, len(idx))
		for j, i := range idx {
			ps[j] = fr.out[i].pValue()
		}
		adj := BenjaminiHochberg(ps)
		for j, i := range idx {
			if !fr.out[i].result.Alarm {
				continue
			}
			r.Counts["farrington_raw_alarms"]++
			fr.alarmed[i] = adj[j] <= fr.o.FarringtonFDR
		}
	}
}

// locals makes one finding per area and scale of the alarms that survived their
// family, leaving out the series a widespread finding of the same level already
// lists (its area rose with the common rise, in its strand or all strands).
func (fr *farrRun) locals(r *Report, wide []Finding) []Finding {
	byPlace := map[string][]int{}
	var places []string
	for i := range fr.series {
		if !fr.alarmed[i] {
			continue
		}
		s := &fr.series[i]
		if explainedBy(wide, s) {
			r.Counts["farrington_widespread_members"]++
			continue
		}
		key := s.place + fr.scales[s.scale].key
		if _, ok := byPlace[key]; !ok {
			places = append(places, key)
		}
		byPlace[key] = append(byPlace[key], i)
	}
	var out []Finding
	for _, key := range places {
		out = append(out, fr.finding(byPlace[key], key))
		r.Counts["farrington_alarms"]++
	}
	return out
}

// finding makes one finding of the alarms of a place at a scale: the strands that
// rose (none listed when only all strands together did), with the figures of the
// most significant of them.
func (fr *farrRun) finding(members []int, key string) Finding {
	best := members[0]
	var strands []string
	for _, i := range members {
		if fr.out[i].result.PValue < fr.out[best].result.PValue {
			best = i
		}
		if fr.series[i].strand != AllStrands {
			strands = append(strands, fr.series[i].strand)
		}
	}
	s, out := &fr.series[best], &fr.out[best]
	sc := fr.scales[s.scale]
	f := farringtonFinding(out, sc, fr.asOf, fr.o.FarringtonMinYears)
	f.Key, f.AreaLevel, f.Strands = key, s.level, strands
	if s.area != "" {
		f.Areas = []string{s.area}
	}
	if s.cell != 0 {
		f.Cells = []uint64{s.cell}
	}
	f.Detail = fmt.Sprintf("Farrington-flexible over %s: %s", scaleWords(sc), baselineWords(&f, sc, out.opts))
	return f
}

// farringtonFinding makes a finding of one outcome: the last period's figures, the
// baseline period it was judged against and a year of evidence.
func farringtonFinding(out *farrOutcome, sc timeScale, asOf time.Time, minYears int) Finding {
	res := out.result
	from, to := PeriodDays(asOf, sc.days, 0)
	f := Finding{Method: MethodFarrington, Scale: sc.name, WindowFrom: from, WindowTo: to,
		Observed: out.observed(), Expected: res.Expected, Upper: res.Upper, P: res.PValue, Recurrence: math.NaN(), Score: res.Score}
	f.BaselineFrom, f.BaselineTo = baselinePeriod(asOf, sc.days, out.opts)
	f.Series = farrEvidence(out.counts, asOf, sc.days, out.opts, minYears)
	return f
}

// baselinePeriod is the span of days the baseline of the period ending on asOf
// reaches over: from the first day of the window B years back to the last day of
// the latest period it includes (PastWeeksNotIncluded periods are left out; with
// one seasonal level only the windows of past years are used).
func baselinePeriod(asOf time.Time, days int, o FarringtonOptions) (from, to time.Time) {
	from, _ = PeriodDays(asOf, days, o.Freq*o.B+o.W)
	latest := o.PastWeeksNotIncluded + 1
	if o.NoPeriods <= 1 {
		latest = max(latest, o.Freq-o.W)
	}
	_, to = PeriodDays(asOf, days, latest)
	return from, to
}

// farrEvidence evaluates the last Freq periods of a series (a year: 52 weeks or 13
// four-week periods), each with B as large as its history allows down to minYears.
// A period without enough history for any baseline shows its count alone, its
// expected count and bound NaN (null in JSON): never a zero posing as an
// expectation.
func farrEvidence(counts []float64, asOf time.Time, days int, o FarringtonOptions, minYears int) []Point {
	t := len(counts) - 1
	var out []Point
	for i := max(0, t-o.Freq+1); i <= t; i++ {
		p := Point{Day: asOf.AddDate(0, 0, -days*(t-i)), Observed: counts[i], Expected: math.NaN(), Upper: math.NaN()}
		fo := o
		for fo.B > minYears && i < FarringtonFirstWeek(fo) {
			fo.B--
		}
		if i >= FarringtonFirstWeek(fo) {
			if res, err := Farrington(counts, i, fo); err == nil && !math.IsNaN(res.Expected) {
				p.Expected, p.Upper, p.Alarm = res.Expected, res.Upper, res.Alarm
			}
		}
		out = append(out, p)
	}
	return out
}

func scaleWords(sc timeScale) string {
	if sc.days == 7 {
		return "the week"
	}
	return fmt.Sprintf("the %d days", sc.days)
}

// baselineWords says what a finding's expected count is and where it comes from,
// e.g. "expected 12.4 a week, from the same weeks of the 4 years before
// (2022-06-06 to 2025-12-28)".
func baselineWords(f *Finding, sc timeScale, o FarringtonOptions) string {
	unit, units := "a week", "weeks"
	if sc.days != 7 {
		unit, units = fmt.Sprintf("in %d days", sc.days), fmt.Sprintf("%d-day periods", sc.days)
	}
	years := "year"
	if o.B != 1 {
		years = fmt.Sprintf("%d years", o.B)
	}
	same := "the same " + units
	if o.NoPeriods > 1 {
		same = "the " + units + ", by season,"
	}
	return fmt.Sprintf("%s observed, expected %.1f %s, from %s of the %s before (%s to %s)", formatCount(f.Observed), f.Expected, unit, same, years,
		f.BaselineFrom.Format(time.DateOnly), f.BaselineTo.Format(time.DateOnly))
}

func formatCount(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// CellPlacer is a Source that can say in which areas of a level each H3 cell's
// incidents lie: the engine uses it to place a rise inside an area.
type CellPlacer interface {
	// CellAreas returns, for each cell at res with incidents over [from, to], the
	// codes of the areas of level its incidents fall in.
	CellAreas(ctx context.Context, res int, level string, from, to time.Time) (map[uint64][]string, error)
}

// placeCells evaluates, for each finding over areas, the H3 cells at FarringtonRes
// inside its areas, at its scale and strands, and lists those that rose (their
// own Benjamini-Hochberg among the finding's cells) as its Cells.
func (fr *farrRun) placeCells(ctx context.Context, src Source, r *Report, findings []Finding) error {
	placer, ok := src.(CellPlacer)
	if fr.o.FarringtonRes <= 0 || !ok || len(findings) == 0 {
		return nil
	}
	from := fr.asOf.AddDate(0, 0, -fr.span()+1)
	cells, s, err := src.CellDays(ctx, fr.o.FarringtonRes, from, fr.asOf)
	if err != nil || len(cells) == 0 {
		return err
	}
	inside := map[string]map[uint64][]string{}
	for i := range findings {
		f := &findings[i]
		if len(f.Areas) == 0 || f.AreaLevel == "" {
			continue
		}
		where, ok := inside[f.AreaLevel]
		if !ok {
			if where, err = placer.CellAreas(ctx, fr.o.FarringtonRes, f.AreaLevel, from, fr.asOf); err != nil {
				return err
			}
			inside[f.AreaLevel] = where
		}
		si := slices.IndexFunc(fr.scales, func(sc timeScale) bool { return sc.name == f.Scale })
		if si < 0 {
			continue
		}
		strands := f.Strands
		if len(strands) == 0 {
			strands = []string{AllStrands}
		}
		var cand []farrSeries
		for ci, c := range cells {
			if !intersects(where[c], f.Areas) {
				continue
			}
			for _, st := range strands {
				if rows := s.Counts[st]; rows != nil {
					cand = append(cand, farrSeries{place: "h3:" + geo.CellString(c), cell: c, strand: st, scale: si,
						counts: periodic(rows[ci], fr.scales[si].days)})
				}
			}
		}
		outs, err := fr.evaluate(ctx, cand)
		if err != nil {
			return err
		}
		r.Counts["farrington_cell_series"] += len(cand)
		ps := make([]float64, len(outs))
		for j := range outs {
			ps[j] = outs[j].pValue()
		}
		adj := BenjaminiHochberg(ps)
		for j := range outs {
			if outs[j].result.Alarm && adj[j] <= fr.o.FarringtonFDR && !slices.Contains(f.Cells, cand[j].cell) {
				f.Cells = append(f.Cells, cand[j].cell)
			}
		}
		slices.Sort(f.Cells)
		r.Counts["farrington_cells_placed"] += len(f.Cells)
	}
	return nil
}
