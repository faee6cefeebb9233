package tension

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

// EngineOptions configure a run of every detector. DefaultEngineOptions gives the
// values the service runs with.
type EngineOptions struct {
	// Detectors names the steps to run: farrington, ears, scan, hotspots,
	// near_repeat, uplift; empty runs them all.
	Detectors []string
	// Strands are analysed each on their own, besides all strands together.
	Strands []string
	// AreaLevels are the area levels analysed; empty means every imported level.
	AreaLevels []string

	// Farrington runs over every area of every level and strand at two time scales:
	// weeks (Farrington) and four-weekly periods (FarringtonFourWeekly); B 0 turns a
	// scale off. The H3 cells at FarringtonRes (0: none) place a rise inside the
	// areas that alarmed. B shrinks to the history available, down to
	// FarringtonMinYears; series with less are skipped.
	Farrington           FarringtonOptions
	FarringtonFourWeekly FarringtonOptions
	FarringtonRes        int
	FarringtonMinYears   int
	// FarringtonFDR: an alarm stands only when its p-value, adjusted with
	// Benjamini-Hochberg within its family (one per area level and time scale; the
	// cells of an area among themselves), is at most this. 1 keeps every alarm.
	// The service's 0.01: the false discovery rate holds per run, and a weekly
	// service runs 52 times a year over four-week periods that overlap. In the
	// national scenario (tension/engine) local chance alarms alone alarmed 1.6% of
	// the quiet area-months at 0.05 (four-weekly scale), 0.5% at 0.02, 0.3% at 0.01.
	FarringtonFDR float64
	// The widespread test (widespread.go): a gate on the pooled series of a level at
	// WidespreadAlpha with a pooled ratio of at least WidespreadMinRatio, then the
	// areas whose counts favour the pooled rise by a log likelihood ratio above
	// WidespreadMinLLR, at least WidespreadMinAreas and WidespreadMinShare of the
	// level. The rise must still show at WidespreadRestAlpha without the
	// WidespreadLeaveOut (or a tenth) areas that rose most. WidespreadAlpha 0 turns
	// it off.
	WidespreadAlpha     float64
	WidespreadMinRatio  float64
	WidespreadMinShare  float64
	WidespreadMinAreas  int
	WidespreadMinLLR    float64
	WidespreadLeaveOut  int
	WidespreadRestAlpha float64

	// EARS runs daily, citywide for all strands and each strand, and for every area
	// of EARSLevel (the level with the fewest areas when empty; "none", the default,
	// for none: the evaluation found ward-level EARS raising about three times the
	// false alarms of citywide EARS, and the scan watches places daily) for all strands.
	EARS      []EARSMethod
	EARSSigma float64 // minimum sigma, for sparse series
	EARSAlpha float64 // the upper bound's tail probability; 0 takes R's default
	EARSLevel string  // "none" for citywide only
	// EARSMinMean skips series averaging fewer incidents a day over the last four
	// weeks: on sparser series a day's 2 or 3 is a chance event EARS cannot tell
	// from a rise, and Farrington and the scan watch them instead.
	EARSMinMean float64
	// EARSFDR: an alarm stands only when its p-value, adjusted with
	// Benjamini-Hochberg over the series evaluated that day, is at most this.
	EARSFDR float64

	// Scan is the prospective space-time permutation scan over cells at ScanRes and
	// the ScanDays days up to the analysis day; clusters with p at most ScanAlpha
	// become findings.
	Scan      ScanOptions
	ScanRes   int
	ScanDays  int
	ScanAlpha float64

	// Hotspots: Gi* over the HotspotRecentDays days up to the analysis day, and the
	// emerging hot spot analysis over HotspotWeeks weeks, at HotspotRes.
	HotspotRes        int
	HotspotWeeks      int
	HotspotRecentDays int
	HotspotK          int

	// Near repeat: the table over located incidents of the NearRepeatDays days up to
	// the analysis day, its risk extent at NearRepeatAlpha, and the risk zones at
	// NearRepeatZoneRes. NearRepeatMaxEvents is a safety bound on memory and time:
	// above it only the latest whole days holding at most that many incidents are
	// tested, and the report says which days (0: no bound).
	NearRepeat          NearRepeatOptions
	NearRepeatDays      int
	NearRepeatMaxEvents int
	NearRepeatAlpha     float64
	NearRepeatZoneRes   int

	// Uplift is measured for trigger events of the UpliftLookback days up to the
	// analysis day; a rise with p at most UpliftAlpha and at least UpliftMinCount
	// incidents becomes a finding.
	Uplift         UpliftOptions
	UpliftLookback int
	UpliftAlpha    float64
	UpliftMinCount int
}

// DefaultNearRepeatMaxEvents bounds the located incidents of one near-repeat test.
// The test's time and memory grow with the incidents and with the pairs near in space
// and time, not with all pairs; a year of 200,000 located incidents in the demo town
// has been tested, and the bound stands five times above that.
const DefaultNearRepeatMaxEvents = 1_000_000

// DefaultEngineOptions returns the service's settings: the Noufaily parameters for
// Farrington with a 1% upper bound (the engine watches hundreds of series a week),
// EARS C2 citywide with a floor on sigma, a scan over resolution-8 cells (about 0.7 km²) in
// disks of up to 3 rings and windows of up to 7 days over half a year, alarming at
// a recurrence interval of 100 days, hotspots at resolution 8, near repeats over a
// year, and uplift over the 4 weeks after each trigger event.
func DefaultEngineOptions() EngineOptions {
	f := FarringtonNoufaily()
	f.Alpha = 0.01
	// No expected count below what the baseline can support: see SparseFloor.
	f.SparseFloor = FarringtonSparseFloor
	scan := DefaultScanOptions()
	return EngineOptions{
		Farrington: f, FarringtonFourWeekly: FarringtonFourWeekly(), FarringtonRes: 7, FarringtonMinYears: 2, FarringtonFDR: 0.01,
		WidespreadAlpha: 1e-4, WidespreadMinRatio: 1.2, WidespreadMinShare: 0.25, WidespreadMinAreas: 3, WidespreadMinLLR: 1, WidespreadLeaveOut: 2, WidespreadRestAlpha: 0.01,
		EARS: []EARSMethod{EARSC2}, EARSSigma: DefaultEARSMinSigma, EARSLevel: "none", EARSMinMean: 1, EARSFDR: 0.05,
		Scan: scan, ScanRes: 8, ScanDays: 182, ScanAlpha: 0.01,
		HotspotRes: 8, HotspotWeeks: 52, HotspotRecentDays: 28, HotspotK: 1,
		NearRepeat: DefaultNearRepeatOptions(), NearRepeatDays: 365, NearRepeatMaxEvents: DefaultNearRepeatMaxEvents,
		NearRepeatAlpha: 0.05, NearRepeatZoneRes: 9,
		Uplift: DefaultUpliftOptions(), UpliftLookback: 28, UpliftAlpha: 0.01, UpliftMinCount: 5,
	}
}

// Hotspot is the hot spot verdict on one cell.
type Hotspot struct {
	Cell       uint64   `json:"cell"`
	Count      int      `json:"count"` // incidents over the recent period
	Z          float64  `json:"z"`     // Gi* over the recent period
	P          float64  `json:"p"`     // FDR-adjusted
	Confidence int      `json:"confidence"`
	Category   Category `json:"category"` // emerging hot spot category over the weeks
	TrendZ     float64  `json:"trend_z"`
	TrendP     float64  `json:"trend_p"`
}

// NearRepeatReport is the near-repeat analysis of a run.
type NearRepeatReport struct {
	// From and To are the days whose located incidents were tested (Table.Events of
	// them): the engine's NearRepeatDays up to the analysis day, or fewer when there
	// were more incidents than its NearRepeatMaxEvents.
	From    time.Time       `json:"from"`
	To      time.Time       `json:"to"`
	Table   NearRepeatTable `json:"table"`
	Risk    *NearRepeatRisk `json:"risk"` // nil: no raised risk
	ZoneRes int             `json:"zone_res"`
	Zones   []RiskCell      `json:"zones"`
}

// Coverage says which incidents the test covered, for a person: "187,234 located
// incidents over the 365 days from 3 December 2025 to 2 December 2026".
func (nr *NearRepeatReport) Coverage() string {
	days := int(dayOf(nr.To).Sub(dayOf(nr.From)).Hours()/24) + 1
	span := fmt.Sprintf("the %d days from %s to %s", days, nr.From.Format("2 January 2006"), nr.To.Format("2 January 2006"))
	if days == 1 {
		span = nr.To.Format("2 January 2006")
	}
	noun := "located incidents"
	if nr.Table.Events == 1 {
		noun = "located incident"
	}
	return fmt.Sprintf("%s %s over %s", groupThousands(nr.Table.Events), noun, span)
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// EventUplift is the uplift measured after one trigger event, citywide and per strand.
type EventUplift struct {
	Event   TriggerEvent   `json:"event"`
	Results []UpliftResult `json:"results"` // Name "" is all strands
}

// Report is what a run of the engine found.
type Report struct {
	AsOf        time.Time
	Findings    []Finding
	HotspotRes  int
	HotspotFrom time.Time
	HotspotTo   time.Time
	Hotspots    []Hotspot
	NearRepeat  *NearRepeatReport
	Uplifts     []EventUplift
	Counts      map[string]int
	Seconds     map[string]float64
	// Failures are the detectors that failed, in the order they ran: what they
	// found is left out, and the other detectors' findings stand.
	Failures []Failure
}

// Failure is a detector (or a part of saving a run) that failed, and why.
type Failure struct {
	Detector string `json:"detector"`
	Error    string `json:"error"`
}

// Detectors returns the names of the engine's detectors in the order a run takes them.
func Detectors() []string {
	return []string{"farrington", "ears", "scan", "hotspots", "near_repeat", "uplift"}
}

// Run runs every detector over the counts of src up to asOf (a day), and returns the
// findings and analyses. A detector whose data are too few is skipped and counted. A
// detector that fails (returns an error or panics) fails alone: what it had added to
// the report is taken back, the failure is listed in Report.Failures and the others
// run on. Run returns an error only when ctx ends.
func Run(ctx context.Context, src Source, asOf time.Time, o EngineOptions) (*Report, error) {
	asOf = dayOf(asOf)
	r := &Report{AsOf: asOf, Counts: map[string]int{}, Seconds: map[string]float64{}}
	steps := map[string]func(context.Context, Source, *Report, EngineOptions) error{
		"farrington":  runFarrington,
		"ears":        runEARS,
		"scan":        runScan,
		"hotspots":    runHotspots,
		"near_repeat": runNearRepeat,
		"uplift":      runUplift,
	}
	for _, name := range Detectors() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(o.Detectors) > 0 && !slices.Contains(o.Detectors, name) {
			continue
		}
		start := time.Now()
		before := *r
		before.Counts = maps.Clone(r.Counts)
		err := runStep(ctx, name, steps[name], src, r, o)
		r.Seconds[name] = time.Since(start).Seconds()
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			seconds := r.Seconds
			*r = before
			r.Seconds = seconds
			r.Failures = append(r.Failures, Failure{Detector: name, Error: err.Error()})
		}
	}
	r.Counts["findings"] = len(r.Findings)
	return r, nil
}

// runStep runs one detector, turning a panic into an error that names it.
func runStep(ctx context.Context, name string, step func(context.Context, Source, *Report, EngineOptions) error, src Source, r *Report, o EngineOptions) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("tension: %s: panic: %v", name, p)
		}
	}()
	if err := step(ctx, src, r, o); err != nil {
		return fmt.Errorf("tension: %s: %w", name, err)
	}
	return nil
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// epochDay numbers a day on a fixed calendar.
func epochDay(t time.Time) int { return int(dayOf(t).Unix() / 86400) }

func fromEpochDay(d int) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// strandKeys returns the strands analysed: all, then each.
func strandKeys(o EngineOptions) []string { return append([]string{AllStrands}, o.Strands...) }

func strandList(s string) []string {
	if s == AllStrands {
		return nil
	}
	return []string{s}
}

func strandKey(s string) string {
	if s == AllStrands {
		return "all"
	}
	return s
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func levelsOf(ctx context.Context, src Source, o EngineOptions) ([]string, error) {
	if len(o.AreaLevels) > 0 {
		return o.AreaLevels, nil
	}
	return src.AreaLevels(ctx)
}

// earsHistory is how many days of history EARS reads: its baseline and lags, and four
// weeks of evidence.
const earsHistory = 7 + 4 + 28

func runEARS(ctx context.Context, src Source, r *Report, o EngineOptions) error {
	from := r.AsOf.AddDate(0, 0, -earsHistory+1)
	city, err := src.CityDays(ctx, from, r.AsOf)
	if err != nil {
		return err
	}
	type series struct {
		key, level, area, strand string
		daily                    []float64
	}
	var all []series
	for _, strand := range strandKeys(o) {
		if rows := city.Counts[strand]; rows != nil {
			all = append(all, series{key: "city:" + strandKey(strand), strand: strand, daily: rows[0]})
		}
	}
	level := o.EARSLevel
	if level == "none" {
		level = ""
	} else if level == "" {
		level, err = coarsestLevel(ctx, src, o, r.AsOf)
		if err != nil {
			return err
		}
	}
	if level != "" {
		areas, s, err := src.AreaDays(ctx, level, from, r.AsOf)
		if err != nil {
			return err
		}
		for i, a := range areas {
			all = append(all, series{key: "area:" + a.Code + ":all", level: level, area: a.Code, daily: s.Counts[AllStrands][i]})
		}
	}
	for _, m := range o.EARS {
		eo := DefaultEARSOptions(m)
		eo.MinSigma = o.EARSSigma
		eo.Alpha = o.EARSAlpha
		name := map[EARSMethod]string{EARSC1: "C1", EARSC2: "C2", EARSC3: "C3"}[m]
		type verdict struct {
			s   series
			res []EARSResult
			p   float64
		}
		var vs []verdict
		for _, s := range all {
			t := len(s.daily) - 1
			if meanOf(s.daily[max(t-27, 0):t+1]) < o.EARSMinMean {
				r.Counts["ears_sparse"]++
				continue
			}
			lo := max(t-27, 0)
			if first, err := eo.FirstDay(); err == nil {
				lo = max(lo, first)
			}
			res, err := EARS(s.daily, lo, t+1, eo)
			if err != nil || len(res) == 0 {
				r.Counts["ears_skipped"]++
				continue
			}
			r.Counts["ears_series"]++
			last := res[len(res)-1]
			p := 1.0
			if last.Alarm {
				p = 1 - normalCDF(last.Statistic)
				if m == EARSC3 {
					p = 0 // C3 gives no p-value: its alarms are kept as they are
				}
			}
			vs = append(vs, verdict{s, res, p})
		}
		ps := make([]float64, len(vs))
		for i, v := range vs {
			ps[i] = v.p
		}
		adj := BenjaminiHochberg(ps)
		for i, v := range vs {
			last := v.res[len(v.res)-1]
			if !last.Alarm {
				continue
			}
			r.Counts["ears_raw_alarms"]++
			if !(adj[i] <= o.EARSFDR) {
				continue
			}
			p := v.p
			if m == EARSC3 {
				p = math.NaN()
			}
			t := len(v.s.daily) - 1
			f := Finding{Method: MethodEARS, Key: v.s.key + ":" + name, AreaLevel: v.s.level, Strands: strandList(v.s.strand),
				WindowFrom: r.AsOf, WindowTo: r.AsOf, Observed: last.Observed, Expected: last.Expected, Upper: last.UpperBound,
				P: p, Recurrence: math.NaN(), Score: last.Statistic, Detail: "EARS " + name}
			if v.s.area != "" {
				f.Areas = []string{v.s.area}
			}
			for _, d := range v.res {
				f.Series = append(f.Series, Point{Day: r.AsOf.AddDate(0, 0, d.Day-t), Observed: d.Observed, Expected: d.Expected, Upper: finite(d.UpperBound), Alarm: d.Alarm})
			}
			r.Findings = append(r.Findings, f)
			r.Counts["ears_alarms"]++
		}
	}
	return nil
}

func meanOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// coarsestLevel is the imported level with the fewest areas ("" when none).
func coarsestLevel(ctx context.Context, src Source, o EngineOptions, asOf time.Time) (string, error) {
	levels, err := levelsOf(ctx, src, o)
	if err != nil || len(levels) == 0 {
		return "", err
	}
	best, bestN := "", math.MaxInt
	for _, l := range levels {
		areas, _, err := src.AreaDays(ctx, l, asOf, asOf)
		if err != nil {
			return "", err
		}
		if len(areas) > 0 && len(areas) < bestN {
			best, bestN = l, len(areas)
		}
	}
	return best, nil
}

func runScan(ctx context.Context, src Source, r *Report, o EngineOptions) error {
	if o.ScanRes <= 0 {
		return nil
	}
	from := r.AsOf.AddDate(0, 0, -o.ScanDays+1)
	cells, s, err := src.CellDays(ctx, o.ScanRes, from, r.AsOf)
	if err != nil {
		return err
	}
	rows := s.Counts[AllStrands]
	base := epochDay(from)
	var cases []ScanCase
	for i, c := range cells {
		for d, v := range rows[i] {
			if v > 0 {
				cases = append(cases, ScanCase{Cell: c, Day: base + d, Count: int(v)})
			}
		}
	}
	r.Counts["scan_cases"] = len(cases)
	if len(cases) < 2 {
		return nil
	}
	res, err := Scan(cases, epochDay(r.AsOf), o.Scan)
	if err != nil {
		return err
	}
	r.Counts["scan_zones"] = res.Zones
	for _, c := range res.Clusters {
		if !(c.P <= o.ScanAlpha) {
			continue
		}
		r.Findings = append(r.Findings, Finding{Method: MethodScan, Key: "cluster", Cells: c.Cells,
			WindowFrom: fromEpochDay(c.FirstDay), WindowTo: fromEpochDay(c.LastDay), Observed: float64(c.Observed), Expected: c.Expected,
			P: c.P, Recurrence: c.RecurrenceDays, Score: c.LLR,
			Detail: fmt.Sprintf("space-time permutation scan: %d cells within %d rings of %s over %d days", len(c.Cells), c.Radius, geo.CellString(c.Center), c.LastDay-c.FirstDay+1)})
		r.Counts["scan_clusters"]++
	}
	return nil
}

func runHotspots(ctx context.Context, src Source, r *Report, o EngineOptions) error {
	if o.HotspotRes <= 0 {
		return nil
	}
	from := r.AsOf.AddDate(0, 0, -7*o.HotspotWeeks+1)
	cells, s, err := src.CellDays(ctx, o.HotspotRes, from, r.AsOf)
	if err != nil {
		return err
	}
	r.HotspotRes, r.HotspotFrom, r.HotspotTo = o.HotspotRes, from, r.AsOf
	if len(cells) == 0 {
		return nil
	}
	k := max(o.HotspotK, 1)
	// The study area: the cells with incidents and their neighbours, which count 0.
	index := map[uint64]int{}
	area := slices.Clone(cells)
	for i, c := range cells {
		index[c] = i
	}
	for _, c := range cells {
		for _, n := range h3.Cell(c).GridDisk(k) {
			if _, ok := index[uint64(n)]; !ok {
				index[uint64(n)] = len(area)
				area = append(area, uint64(n))
			}
		}
	}
	rows := s.Counts[AllStrands]
	steps := o.HotspotWeeks
	counts := make([]float64, len(area)*steps)
	recent := make([]float64, len(area))
	days := s.Days()
	for i := range cells {
		w := weekly(rows[i])
		for t := 0; t < steps && t < len(w); t++ {
			counts[t*len(area)+i] = w[len(w)-steps+t]
		}
		for d := max(days-o.HotspotRecentDays, 0); d < days; d++ {
			recent[i] += rows[i][d]
		}
	}
	patterns, err := EmergingHotspots(HotspotCube{Cells: area, Steps: steps, Counts: counts, K: k})
	if err != nil {
		return err
	}
	z, err := GiStar(area, recent, k)
	if err != nil {
		return err
	}
	bins, adj := HotspotBins(z)
	conf := map[int]int{3: 99, 2: 95, 1: 90, 0: 0, -1: -90, -2: -95, -3: -99}
	for i, c := range area {
		h := Hotspot{Cell: c, Count: int(recent[i]), Z: z[i], P: adj[i], Confidence: conf[bins[i]],
			Category: patterns[i].Category, TrendZ: patterns[i].TrendZ, TrendP: patterns[i].TrendP}
		if math.IsNaN(h.Z) {
			h.Z, h.P = 0, 1
		}
		r.Hotspots = append(r.Hotspots, h)
		if h.Confidence > 0 {
			r.Counts["hotspot_cells"]++
		}
		if patterns[i].Category != CategoryNoPattern {
			r.Counts["emerging_patterns"]++
		}
	}
	sort.Slice(r.Hotspots, func(i, j int) bool { return r.Hotspots[i].Cell < r.Hotspots[j].Cell })
	r.Counts["hotspot_study_cells"] = len(area)
	return nil
}

func runNearRepeat(ctx context.Context, src Source, r *Report, o EngineOptions) error {
	if o.NearRepeatDays <= 0 {
		return nil
	}
	from := r.AsOf.AddDate(0, 0, -o.NearRepeatDays+1)
	located, err := src.LocatedIncidents(ctx, from, r.AsOf)
	if err != nil {
		return err
	}
	r.Counts["near_repeat_located"] = len(located)
	if len(located) > o.NearRepeatMaxEvents && o.NearRepeatMaxEvents > 0 {
		// The latest whole days within the bound: a day is tested whole or not at all,
		// so that the period the report names holds every incident of its days.
		sort.Slice(located, func(i, j int) bool { return located[i].Day.After(located[j].Day) })
		cut := dayOf(located[o.NearRepeatMaxEvents].Day) // the latest day left out
		keep := sort.Search(len(located), func(i int) bool { return !dayOf(located[i].Day).After(cut) })
		located = located[:keep]
		from = cut.AddDate(0, 0, 1)
	}
	r.Counts["near_repeat_events"] = len(located)
	if len(located) < 10 {
		return nil
	}
	// A local equirectangular projection: exact enough for the few hundred metres
	// near repeats are about.
	lat0 := 0.0
	for _, l := range located {
		lat0 += l.At.Lat
	}
	lat0 /= float64(len(located))
	kx := geo.EarthRadius * math.Pi / 180 * math.Cos(lat0*math.Pi/180)
	ky := geo.EarthRadius * math.Pi / 180
	events := make([]KnoxEvent, len(located))
	recent := make([]NearRepeatIncident, len(located))
	for i, l := range located {
		events[i] = KnoxEvent{X: l.At.Lon * kx, Y: l.At.Lat * ky, Day: epochDay(l.Day)}
		recent[i] = NearRepeatIncident{At: l.At, Day: epochDay(l.Day)}
	}
	table, err := NearRepeat(events, o.NearRepeat)
	if err != nil {
		return err
	}
	rep := &NearRepeatReport{From: from, To: r.AsOf, Table: table, ZoneRes: o.NearRepeatZoneRes}
	if risk, ok := table.Risk(o.NearRepeatAlpha); ok {
		rep.Risk = &risk
		zones, err := NearRepeatZones(recent, epochDay(r.AsOf), risk, o.NearRepeatZoneRes)
		if err != nil {
			return err
		}
		rep.Zones = zones
		r.Counts["near_repeat_zone_cells"] = len(zones)
	}
	r.NearRepeat = rep
	return nil
}

func runUplift(ctx context.Context, src Source, r *Report, o EngineOptions) error {
	events, err := src.TriggerEvents(ctx, r.AsOf.AddDate(0, 0, -o.UpliftLookback), r.AsOf)
	if err != nil || len(events) == 0 {
		return err
	}
	uo := o.Uplift
	if uo.YearLag == 0 {
		uo = DefaultUpliftOptions()
	}
	earliest := events[0].Day.AddDate(0, 0, -uo.YearLag-uo.PriorDays-1)
	city, err := src.CityDays(ctx, earliest, r.AsOf)
	if err != nil {
		return err
	}
	for _, e := range events {
		strands := e.Strands
		if len(strands) == 0 {
			strands = o.Strands
		}
		var series []UpliftSeries
		for _, s := range append([]string{AllStrands}, strands...) {
			if rows := city.Counts[s]; rows != nil {
				series = append(series, UpliftSeries{Name: s, Daily: rows[0]})
			}
		}
		eventDay := int(dayOf(e.Day).Sub(city.From).Hours() / 24)
		results, err := UpliftAll(series, eventDay, uo)
		if err != nil {
			return err
		}
		r.Uplifts = append(r.Uplifts, EventUplift{Event: e, Results: results})
		r.Counts["uplift_events"]++
		for _, res := range results {
			if f := upliftFinding(e, res, city.From, o); f != nil {
				r.addUplift(*f, e.ID)
			}
		}
	}
	return nil
}

// upliftFinding reports the longest window after an event that rose significantly
// against the weeks before it, or failing those against a year earlier.
func upliftFinding(e TriggerEvent, res UpliftResult, start time.Time, o EngineOptions) *Finding {
	for i := len(res.Windows) - 1; i >= 0; i-- {
		w := res.Windows[i]
		for _, c := range []UpliftComparison{w.Prior, w.LastYear} {
			if !c.Available || !(c.P <= o.UpliftAlpha) || w.Observed < o.UpliftMinCount {
				continue
			}
			return &Finding{Method: MethodUplift, Key: fmt.Sprintf("event:%d:%s", e.ID, strandKey(res.Name)), Strands: strandList(res.Name),
				WindowFrom: start.AddDate(0, 0, w.FirstDay), WindowTo: start.AddDate(0, 0, w.LastDay),
				Observed: float64(w.Observed), Expected: c.Expected, P: c.P, Recurrence: math.NaN(), Score: c.Ratio,
				Detail: upliftDetail(e, w, c, start)}
		}
	}
	return nil
}
