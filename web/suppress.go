package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/uber/h3-go/v4"
)

// disclosure decides how counts are shown to a role. Police, council and admin see
// them as they are. A role that may not see small counts (strategic) sees every
// count through the same rule, so that no count from 1 to k-1 can be recovered by
// combining answers (docs/privacy.md):
//
//   - its periods are snapped to a fixed lattice (calendar months, quarters and
//     years, or all time), so a place's incidents are published in a handful of
//     overlapping windows only, never in windows of days;
//   - a count n becomes n + e, where e from -Noise to Noise (triangular) is drawn from a
//     keyed hash of what is counted (place, period, filter, measure) and of n itself:
//     asking again gives the same answer, asking after the count changed a fresh one;
//   - a perturbed count below k is withheld, and so is a true zero, so a withheld
//     figure means "fewer than k, perhaps none" and carries no lower bound; the rest
//     is rounded to a multiple of RoundTo.
//
// Everything else a restricted role sees (rates, shares, changes, chart heights,
// totals) is computed from the published counts, never from the true ones.
type disclosure struct {
	exact   bool
	k       int
	roundTo int
	noise   int
	key     []byte
	scope   string
}

func (s *Server) disclosureFor(p *access.Principal) disclosure {
	return disclosure{exact: p != nil && p.Role.SeesSmallCounts(), k: s.opts.SuppressBelow, roundTo: s.opts.RoundTo,
		noise: s.opts.Noise, key: s.opts.DisclosureKey}
}

// in returns the disclosure for the counts of one question: parts name what is
// counted (the route, the place system, the period, the filter), and every count
// published under it draws its noise from them.
func (d disclosure) in(parts ...string) disclosure {
	d.scope = d.scope + "|" + strings.Join(parts, "|")
	return d
}

// count returns the count to show, nil when withheld. item names the figure within
// the disclosure's scope (an area code, a cell, a strand, "total").
func (d disclosure) count(n int, item ...string) *int {
	if d.exact {
		return &n
	}
	y := n
	if n > 0 {
		y += d.perturbation(n, item)
	}
	if n <= 0 || y < d.k {
		return nil
	}
	if d.roundTo > 1 {
		r := int(math.Round(float64(y)/float64(d.roundTo))) * d.roundTo
		if r == 0 {
			r = d.roundTo
		}
		return &r
	}
	return &y
}

// perturbation is the noise added to the count n of item: from -noise to noise, with
// weights noise+1-|e| (a triangle), from the keyed hash of the scope, the item and n.
func (d disclosure) perturbation(n int, item []string) int {
	if d.noise <= 0 {
		return 0
	}
	mac := hmac.New(sha256.New, d.key)
	mac.Write([]byte("tensionmap disclosure\x00")) // apart from any other use of the key
	mac.Write([]byte(d.scope))
	for _, it := range item {
		mac.Write([]byte{0})
		mac.Write([]byte(it))
	}
	mac.Write([]byte{0})
	mac.Write([]byte(strconv.Itoa(n)))
	u := binary.BigEndian.Uint64(mac.Sum(nil))
	total := uint64((d.noise + 1) * (d.noise + 1))
	r := int(u % total)
	for e := -d.noise; e <= d.noise; e++ {
		w := d.noise + 1 - abs(e)
		if r < w {
			return e
		}
		r -= w
	}
	return 0
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// bounds are the true counts a published figure allows, as an attacker who knows the
// method (but not the key) can tell: lo..hi, hi < 0 for no upper bound. A withheld
// figure allows 0..k-1+noise; a shown p allows p-RoundTo/2-noise .. p+RoundTo/2+noise.
func (d disclosure) bounds(shown *int) (lo, hi int) {
	if d.exact {
		if shown == nil {
			return 0, -1
		}
		return *shown, *shown
	}
	if shown == nil {
		return 0, d.k - 1 + d.noise
	}
	half := 0
	if d.roundTo > 1 {
		half = d.roundTo / 2
	}
	lo = *shown - half - d.noise
	if floor := d.k - d.noise; lo < floor {
		lo = floor
	}
	return max(lo, 1), *shown + half + d.noise
}

// Service-standard shares for a role that may not see small counts: the share of
// the true counts, rounded to ShareStep points, given only when ShareMinCases
// cases or more count (docs/privacy.md).
const (
	ShareMinCases = 20
	ShareStep     = 5
)

// caseShare is the share in percent of met cases of of, as the role may see it,
// with the reason when it is not given. Exact roles get the share to one decimal
// (nil for no case). Others get the share of the true counts rounded to the
// nearest ShareStep points (halves up), and nothing ("fewer than 20 cases") when
// fewer than ShareMinCases count, a zero included. The share is taken from the
// true counts, not from the perturbed ones: perturbed separately, 54 of 60 (90%,
// below a 100% target) can be published as 55 of 55, 100%, met.
func (d disclosure) caseShare(met, of int) (*float64, string) {
	if d.exact {
		if of <= 0 {
			return nil, ""
		}
		v := math.Round(float64(met)/float64(of)*1000) / 10
		return &v, ""
	}
	if of < ShareMinCases {
		return nil, fmt.Sprintf("fewer than %d cases", ShareMinCases)
	}
	// Nearest multiple of ShareStep of 100*met/of, halves up, in integers.
	steps := 100 / ShareStep
	v := float64((2*steps*met+of)/(2*of)) * ShareStep
	return &v, ""
}

// rate returns the rate per 1,000 population of a shown count, nil when the count
// is withheld or the population unknown.
func (d disclosure) rate(shown *int, population int) *float64 {
	if shown == nil || population <= 0 {
		return nil
	}
	r := math.Round(float64(*shown)/float64(population)*1000*100) / 100
	return &r
}

// counts applies count to each value of a breakdown, each key its own item.
func (d disclosure) counts(m map[string]int, keys []string, item ...string) map[string]*int {
	out := make(map[string]*int, len(keys))
	for _, k := range keys {
		out[k] = d.count(m[k], append(item, k)...)
	}
	return out
}

// sumShown adds published counts, withheld ones as none: the total a restricted role
// may be told of figures it was given.
func sumShown(vs ...*int) *int {
	t, any := 0, false
	for _, v := range vs {
		if v != nil {
			t += *v
			any = true
		}
	}
	if !any {
		return nil
	}
	return &t
}

// periodNote says which published period a restricted role's question was answered
// for.
const periodNote = "counts for this role are published for calendar months, quarters and years (or all time) only; the period asked for was answered with the one shown"

// period snaps a filter's dates, for a role that may not see small counts, to the
// lattice of published periods: a span of up to 31 days becomes the calendar month
// that holds its last day, up to 92 days that quarter, up to 366 days that year,
// and anything longer (or no dates at all) all time. last is the day a missing end
// stands for. It reports whether the dates changed.
func (d disclosure) period(f *geo.Filter, last time.Time) bool {
	if d.exact {
		return false
	}
	from, to := snapPeriod(f.From, f.To, last)
	changed := !from.Equal(f.From) || !to.Equal(f.To)
	f.From, f.To = from, to
	return changed
}

func snapPeriod(from, to, last time.Time) (time.Time, time.Time) {
	if from.IsZero() && to.IsZero() {
		return time.Time{}, time.Time{}
	}
	end := to
	if end.IsZero() {
		end = last
	}
	if end.IsZero() {
		return time.Time{}, time.Time{}
	}
	end = geo.Day(end)
	days := 367
	if !from.IsZero() {
		days = int(end.Sub(geo.Day(from)).Hours()/24) + 1
	}
	month := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch {
	case days <= 31:
		return month, month.AddDate(0, 1, -1)
	case days <= 92:
		q := time.Date(end.Year(), time.Month((int(end.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
		return q, q.AddDate(0, 3, -1)
	case days <= 366:
		y := time.Date(end.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		return y, y.AddDate(1, 0, -1)
	}
	return time.Time{}, time.Time{}
}

// filterScope is the canonical name of a filter for the noise: the same question
// asked in other words (a different order, every kind listed) is the same question.
func (s *Server) filterScope(f geo.Filter) string {
	var b strings.Builder
	if !f.From.IsZero() {
		b.WriteString(f.From.Format(time.DateOnly))
	}
	b.WriteString("..")
	if !f.To.IsZero() {
		b.WriteString(f.To.Format(time.DateOnly))
	}
	strands := sortedCopy(f.Strands)
	if len(compactSorted(strands)) == len(s.opts.Strands) {
		strands = nil
	}
	kinds := sortedCopy(kindStrings(f.Kinds))
	if len(compactSorted(kinds)) == 2 {
		kinds = nil
	}
	sources := sortedCopy(f.Sources)
	if len(compactSorted(sources)) == len(s.opts.Sources) {
		sources = nil
	}
	for _, part := range [][]string{compactSorted(strands), compactSorted(kinds), compactSorted(sources)} {
		b.WriteString("|" + strings.Join(part, ","))
	}
	return b.String()
}

func compactSorted(s []string) []string {
	out := s[:0:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// restrict snaps f to the published periods when d is restricted, and returns the
// disclosure for a question about what, scoped to the snapped filter. snapped
// reports whether the period asked for was changed.
func (s *Server) restrict(ctx context.Context, d disclosure, f *geo.Filter, what ...string) (disclosure, bool, error) {
	if d.exact {
		// Counts shown as they are: no period to publish, and no scope to key a
		// perturbation with.
		return d, false, nil
	}
	var last time.Time
	if f.To.IsZero() && !f.From.IsZero() {
		st, err := s.store.Stats(ctx)
		if err != nil {
			return d, false, err
		}
		last = st.LastDay
		if last.IsZero() {
			last = s.opts.Now().UTC()
		}
	}
	snapped := d.period(f, last)
	return d.in(append(what, s.filterScope(*f))...), snapped, nil
}

// noteSnapped says which period an answer counted: in words in the answer
// ("period_text") and as days in the Tensionmap-Period header (from..to, or "all"),
// with the note on published periods when the period asked for was changed.
func noteSnapped(w http.ResponseWriter, answer map[string]any, f geo.Filter, snapped bool) {
	setPeriodHeader(w, f)
	answer["period_text"] = PeriodText(f.From, f.To)
	if snapped {
		answer["period_note"] = periodNote
	}
}

// PeriodHeader names the header that gives the period an answer or a tile counted.
const PeriodHeader = "Tensionmap-Period"

// setPeriodHeader writes the period counted: its days written out by hand into one
// buffer (a tile answer writes it every time, and time's layouts are parsed on each
// Format).
func setPeriodHeader(w http.ResponseWriter, f geo.Filter) {
	v := "all"
	if !f.From.IsZero() || !f.To.IsZero() {
		var buf [32]byte
		b := geo.AppendDay(buf[:0], f.From)
		b = append(b, ".."...)
		v = string(geo.AppendDay(b, f.To))
	}
	w.Header()[PeriodHeader] = []string{v}
}

// PeriodText writes a period as a person would: "June 2026", "April to June 2026",
// "2026" for the published periods, "1–28 Jun 2026" for others, "all time" for none.
func PeriodText(from, to time.Time) string {
	switch {
	case from.IsZero() && to.IsZero():
		return "all time"
	case from.IsZero():
		return "up to " + to.Format("2 Jan 2006")
	case to.IsZero():
		return "from " + from.Format("2 Jan 2006")
	}
	if from.Day() == 1 && to.AddDate(0, 0, 1).Day() == 1 {
		months := (to.Year()-from.Year())*12 + int(to.Month()-from.Month()) + 1
		switch {
		case months == 1:
			return from.Format("January 2006")
		case months == 12 && from.Month() == time.January:
			return from.Format("2006")
		case from.Year() == to.Year():
			return from.Format("January") + " to " + to.Format("January 2006")
		}
	}
	return tension.DayRange(from, to)
}

// disclosureWeeks is the disclosure of a place's calendar weeks under a filter
// (its dates left out: a week is the period).
func (d disclosure) disclosureWeeks(filter string, p geo.Place) disclosure {
	place := p.Area
	if p.Cell != 0 {
		place = geo.CellString(p.Cell)
	}
	d.scope = ""
	return d.in("week", place, filter)
}

// hotspots returns a hot spot analysis at res over the days from..to as the role
// may see it. A role that may see small counts gets it as the engine found it. A
// role that may not gets an analysis made from published counts only, so that it
// tells nothing the published counts do not (docs/privacy.md):
//
//   - the emerging hot spot categories come from the same analysis as the engine's
//     (Gi* over space and the previous week, FDR, Mann-Kendall; tension.EmergingHotspots)
//     run over the published weekly counts of each cell: the calendar weeks (Monday
//     to Sunday) ending on the last Sunday of the window, as many as the engine's
//     weeks, each the figure the map's cell panel publishes for that week (withheld
//     ones as 0);
//   - the study area is the cells with a published figure (a week, or the recent
//     count below) and their neighbours, not the cells with any incident;
//   - the Gi* confidence classes come from the recent period's counts, each
//     perturbed and withheld like a published one;
//   - no z, p-value or trend, and the counts are those perturbed ones.
func (s *Server) hotspots(ctx context.Context, d disclosure, res int, from, to time.Time, hs []tension.Hotspot) ([]tension.Hotspot, error) {
	if d.exact || from.IsZero() || to.IsZero() {
		return hs, nil
	}
	version, err := s.dataVersion(ctx)
	if err != nil {
		return nil, err
	}
	// The analysis's own counts name it too: the review's recent period is its own.
	sum := uint64(len(hs))
	for _, h := range hs {
		sum = sum*1000003 + h.Cell ^ uint64(h.Count)
	}
	key := fmt.Sprintf("publishedhotspots|%d|%s|%s|%x|%s", res, from.Format(time.DateOnly), to.Format(time.DateOnly), sum, version)
	v, err := s.tiles.Memo().Get(ctx, key, func() (any, error) { return s.publishedHotspots(ctx, d, res, from, to, hs) })
	if err != nil {
		return nil, err
	}
	return v.([]tension.Hotspot), nil
}

// PublishedWeeks returns the calendar weeks the published emerging hot spot analysis
// of the window from..to runs over: as many weeks as the window holds whole, the
// last ending on the last Sunday on or before to. first is a Monday.
func PublishedWeeks(from, to time.Time) (first, last time.Time, weeks int) {
	from, to = geo.Day(from), geo.Day(to)
	weeks = max((int(to.Sub(from).Hours()/24)+1)/7, 1)
	last = to.AddDate(0, 0, -(int(to.Weekday())+7)%7)
	return last.AddDate(0, 0, -7*weeks+1), last, weeks
}

func (s *Server) publishedHotspots(ctx context.Context, d disclosure, res int, from, to time.Time, hs []tension.Hotspot) ([]tension.Hotspot, error) {
	first, last, steps := PublishedWeeks(from, to)
	cells, series, err := s.store.CellDays(ctx, res, first, last)
	if err != nil {
		return nil, err
	}
	// The published weekly counts of every cell with any incident in those weeks.
	filter := s.filterScope(geo.Filter{})
	weekly := map[uint64][]float64{}
	inArea := map[uint64]bool{}
	rows := series.Counts[tension.AllStrands]
	for i, c := range cells {
		dw := d.disclosureWeeks(filter, geo.Place{Cell: c})
		w := make([]float64, steps)
		shown := false
		for t := range steps {
			n := 0.0
			for day := 7 * t; day < 7*t+7 && i < len(rows) && day < len(rows[i]); day++ {
				n += rows[i][day]
			}
			start := first.AddDate(0, 0, 7*t).Format(time.DateOnly)
			if p := dw.count(int(n), start); p != nil {
				w[t], shown = float64(*p), true
			}
		}
		if shown {
			weekly[c], inArea[c] = w, true
		}
	}
	// The recent period's counts, perturbed like published ones.
	dr := d.in("hotspot window", from.Format(time.DateOnly)+".."+to.Format(time.DateOnly))
	recent := map[uint64]float64{}
	for _, h := range hs {
		if p := dr.count(h.Count, geo.CellString(h.Cell)); p != nil {
			recent[h.Cell], inArea[h.Cell] = float64(*p), true
		}
	}
	if len(inArea) == 0 {
		return []tension.Hotspot{}, nil
	}
	// The study area: those cells and their neighbours, which count 0.
	area := make([]uint64, 0, len(inArea))
	for c := range inArea {
		area = append(area, c)
	}
	for _, c := range area[:len(area):len(area)] {
		for _, n := range h3.Cell(c).GridDisk(hotspotK) {
			if !inArea[uint64(n)] {
				inArea[uint64(n)] = true
				area = append(area, uint64(n))
			}
		}
	}
	slices.Sort(area)
	counts := make([]float64, len(area)*steps)
	values := make([]float64, len(area))
	for i, c := range area {
		for t, n := range weekly[c] {
			counts[t*len(area)+i] = n
		}
		values[i] = recent[c]
	}
	patterns, err := tension.EmergingHotspots(tension.HotspotCube{Cells: area, Steps: steps, Counts: counts, K: hotspotK})
	if err != nil {
		return nil, err
	}
	z, err := tension.GiStar(area, values, hotspotK)
	if err != nil {
		return nil, err
	}
	bins, _ := tension.HotspotBins(z)
	conf := map[int]int{3: 99, 2: 95, 1: 90, 0: 0, -1: -90, -2: -95, -3: -99}
	out := make([]tension.Hotspot, len(area))
	for i, c := range area {
		out[i] = tension.Hotspot{Cell: c, Count: int(values[i]), Confidence: conf[bins[i]], Category: patterns[i].Category}
	}
	return out, nil
}

// hotspotK is the neighbourhood (rings of H3 cells) of the engine's Gi*.
const hotspotK = 1
