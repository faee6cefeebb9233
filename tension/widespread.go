package tension

// A rise that is everywhere is one finding. When a national event raises tension,
// most areas of a level rise in the same week or four-week period; testing each
// area on its own spends the false discovery rate on every one of them and finds
// few (each area's rise is small against its own noise), and those it finds open
// dozens of alerts about one thing.
//
// The widespread test is hierarchical (gated), per area level, time scale and
// strand:
//
//  1. The gate: Farrington on the pooled series (the sum over the level's areas),
//     which carries the whole family's evidence at once: its p-value must be at most
//     WidespreadAlpha (strict, 1e-4 by default: one gate per level, scale and strand
//     a run) and the pooled ratio observed/expected at least WidespreadMinRatio
//     (1.2), so that a large pooled count's small drift from the model does not
//     open the gate.
//     The rise must still show, at p ≤ WidespreadRestAlpha (0.01), in the pool
//     without the areas that rose most (the largest excess counts: a tenth of the
//     areas, at least WidespreadLeaveOut, 2): two areas tripling raise a pool of
//     twenty by a fifth, but the rise is theirs (the rest's p is near 0.5), and
//     stays local. At 1e-4 there, the first two weeks of a national rise of 30-60%
//     failed it: the rest's p was 2e-4 to 1e-2.
//  2. Once the gate is open, an area rose with the common rise when its own count
//     is more likely under "risen by the pooled ratio R" than under its baseline by
//     a factor of e (WidespreadMinLLR 1): the Poisson log likelihood ratio
//     y log R - (R-1) e is above 1, with y its count and e its own Farrington
//     expected count; that is y > (1 + e )/log R, about 1.18 e + 3 for R = 1.4.
//     A threshold of 0 (the likelihoods merely favouring the rise) listed the areas
//     that did not rise too often: as the engine runs weekly over overlapping
//     periods, an area left out of the national event met it at one run or another
//     (3.1% of quiet area-months alarmed at 0 against 0.6% at 1, weekly scale). The areas need no significance of their own: the
//     gate has already shown the rise, the ratio only asks which areas share it.
//  3. The rise is widespread when at least WidespreadMinShare (a quarter) of the
//     level's areas, and at least WidespreadMinAreas (3), rose; otherwise the
//     areas' own alarms stay local.
//
// One widespread finding a level, scale and strand; the one for all strands is
// dropped when a single strand's is raised at the same scale (it is that strand's
// rise seen again). An area's own alarm for a strand a widespread finding lists it
// under (or for all strands) is folded into the widespread finding; its alarms for
// other strands stay local. Its tension level comes from size (ratio, p) and
// breadth (Finding.Breadth, the share of areas that rose: a rule field).
//
// Measured on the evaluation's national scenario (tensionmap eval --scenario
// national: 33 areas, race up 30-60% in 80% of them for 4-8 weeks, the engine run
// every Monday for two years, seeds 1-5) with these settings and the families' FDR
// at 0.01: 83.1% of the risen areas flagged within the event's month (widespread
// over 4 weeks 74.2%, over weeks 71.9%) and 1.6% of the quiet area-months alarmed
// (widespread 0.8% and 0.7%, local alarms 0.4%); the gate never opened outside an
// event, its false alarms are areas left out of an event listed with it. R's
// farringtonFlexible on the calendar months (Noufaily settings, every area and
// strand): 66.5% and 18.6%.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// MethodWidespread is the method of a rise seen in many areas at once.
const MethodWidespread = "widespread"

// UpliftNote is the uplift measured after a trigger event, folded into the
// widespread finding of the same run.
type UpliftNote struct {
	EventID    int64     `json:"event_id"`
	Strands    []string  `json:"strands,omitempty"`
	WindowFrom time.Time `json:"window_from"`
	WindowTo   time.Time `json:"window_to"`
	Observed   float64   `json:"observed"`
	Expected   float64   `json:"expected"`
	Ratio      float64   `json:"ratio"`
	P          float64   `json:"p"`
	Detail     string    `json:"detail"`
}

// widespread runs the gated test over every family and strand and returns the
// widespread findings.
func (fr *farrRun) widespread(r *Report) []Finding {
	if fr.o.WidespreadAlpha <= 0 {
		return nil
	}
	type group struct {
		level, strand string
		scale         int
		idx           []int
	}
	var groups []*group
	byKey := map[string]*group{}
	for i := range fr.series {
		s := &fr.series[i]
		key := s.family() + "|" + s.strand
		g, ok := byKey[key]
		if !ok {
			g = &group{level: s.level, strand: s.strand, scale: s.scale}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	var out []Finding
	for _, g := range groups {
		if f, ok := fr.widespreadOne(r, g.level, g.strand, g.scale, g.idx); ok {
			out = append(out, f)
		}
	}
	// A strand's widespread rise shows again in all strands: keep the strand's.
	return slices.DeleteFunc(out, func(f Finding) bool {
		return len(f.Strands) == 0 && slices.ContainsFunc(out, func(o Finding) bool {
			return len(o.Strands) > 0 && o.AreaLevel == f.AreaLevel && o.Scale == f.Scale
		})
	})
}

func (fr *farrRun) widespreadOne(r *Report, level, strand string, scale int, idx []int) (Finding, bool) {
	var live []int
	for _, i := range idx {
		if !fr.out[i].skipped {
			live = append(live, i)
		}
	}
	n := len(live)
	if n < max(fr.o.WidespreadMinAreas, 2) {
		return Finding{}, false
	}
	sc := fr.scales[scale]
	gate := farringtonOne(fr.pool(live, nil), sc.opts, fr.o.FarringtonMinYears)
	if gate.skipped || gate.result.Reason != "" || !(gate.result.Expected > 0) {
		return Finding{}, false
	}
	ratio := gate.observed() / gate.result.Expected
	r.Counts["widespread_gates_tried"]++
	if !(gate.result.PValue <= fr.o.WidespreadAlpha) || !(ratio >= fr.o.WidespreadMinRatio) {
		return Finding{}, false
	}
	// The gate must hold without the areas that rose most: a rise that hangs on a
	// few areas is theirs, and stays local.
	excess := func(i int) float64 { return fr.out[i].observed() - finite(fr.out[i].result.Expected) }
	top := slices.Clone(live)
	slices.SortFunc(top, func(a, b int) int { return cmp.Compare(excess(b), excess(a)) })
	top = top[:min(len(top)-1, max(fr.o.WidespreadLeaveOut, int(math.Ceil(0.1*float64(n)))))]
	rest := farringtonOne(fr.pool(live, top), sc.opts, fr.o.FarringtonMinYears)
	if rest.skipped || rest.result.Reason != "" || !(rest.result.Expected > 0) ||
		!(rest.result.PValue <= fr.o.WidespreadRestAlpha) {
		r.Counts["widespread_gates_narrow"]++
		return Finding{}, false
	}
	r.Counts["widespread_gates_open"]++
	var rose []string
	for _, i := range idx {
		out := &fr.out[i]
		if out.skipped || !(out.result.Expected > 0) {
			continue
		}
		if y, e := out.observed(), out.result.Expected; y*math.Log(ratio)-(ratio-1)*e > fr.o.WidespreadMinLLR {
			rose = append(rose, fr.series[i].area)
		}
	}
	if len(rose) < fr.o.WidespreadMinAreas || float64(len(rose)) < fr.o.WidespreadMinShare*float64(n) {
		return Finding{}, false
	}
	f := farringtonFinding(&gate, sc, fr.asOf, fr.o.FarringtonMinYears)
	f.Method = MethodWidespread
	f.Key = widespreadKey(level, sc, strand)
	f.AreaLevel, f.Areas, f.Strands = level, rose, strandList(strand)
	f.Breadth = float64(len(rose)) / float64(n)
	what := "reports"
	if strand != AllStrands {
		what = strings.ReplaceAll(strand, "_", " ") + " reports"
	}
	f.Detail = fmt.Sprintf("%s rose together in %d of %d %s areas over %s (ratio %.2f across them): %s", what, len(rose), n, level,
		scaleWords(sc), ratio, baselineWords(&f, sc, gate.opts))
	r.Counts["widespread_findings"]++
	return f, true
}

// pool sums the series idx but those left out, over the periods they share.
func (fr *farrRun) pool(idx, leftOut []int) []float64 {
	var pooled []float64
	for _, i := range idx {
		if slices.Contains(leftOut, i) {
			continue
		}
		c := fr.trim(&fr.series[i])
		if pooled == nil {
			pooled = make([]float64, len(c))
		}
		for k := range min(len(c), len(pooled)) {
			pooled[k] += c[k]
		}
	}
	return pooled
}

func widespreadKey(level string, sc timeScale, strand string) string {
	scale := "week"
	if sc.days != 7 {
		scale = fmt.Sprintf("%dd", sc.days)
	}
	return fmt.Sprintf("widespread:%s:%s:%s", level, scale, strandKey(strand))
}

// explainedBy reports whether an area's series is part of a widespread finding of
// its level: the area is listed, and the series is the finding's strand or all
// strands.
func explainedBy(wide []Finding, s *farrSeries) bool {
	for i := range wide {
		w := &wide[i]
		if w.AreaLevel != s.level || !slices.Contains(w.Areas, s.area) {
			continue
		}
		if s.strand == AllStrands || len(w.Strands) == 0 || slices.Contains(w.Strands, s.strand) {
			return true
		}
	}
	return false
}

// addUplift adds an uplift finding to the report, or folds it into the run's
// widespread finding when there is one: the rise after the event is the same rise,
// and the widespread finding then names the event and carries the uplift's
// figures. The widespread finding of the uplift's strand is preferred, then the
// one of all strands, then any.
func (r *Report) addUplift(f Finding, eventID int64) {
	best := -1
	for i := range r.Findings {
		w := &r.Findings[i]
		if w.Method != MethodWidespread {
			continue
		}
		if best < 0 || widespreadRank(w, &f) < widespreadRank(&r.Findings[best], &f) {
			best = i
		}
	}
	if best < 0 {
		r.Findings = append(r.Findings, f)
		r.Counts["uplift_alarms"]++
		return
	}
	w := &r.Findings[best]
	if w.EventID == 0 {
		w.EventID = eventID
	}
	w.Uplift = append(w.Uplift, UpliftNote{EventID: eventID, Strands: f.Strands, WindowFrom: f.WindowFrom, WindowTo: f.WindowTo,
		Observed: f.Observed, Expected: f.Expected, Ratio: finite(f.Score), P: finite(f.P), Detail: f.Detail})
	if len(w.Uplift) == 1 {
		w.Detail += fmt.Sprintf("; after trigger event %d: %s, %s against %.1f expected (ratio %.2f)", eventID, f.Detail,
			formatCount(f.Observed), f.Expected, f.Score)
	}
	r.Counts["uplift_folded"]++
}

func widespreadRank(w, f *Finding) int {
	switch {
	case slices.Equal(w.Strands, f.Strands):
		return 0
	case len(w.Strands) == 0:
		return 1
	}
	return 2
}
