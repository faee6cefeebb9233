package engine

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// The national scenario: a partnership's boroughs through a national event, shaped
// like monthly borough hate crime series. Areas report 20 to 80 incidents a month
// each, with a summer peak and a yearly trend, race about three quarters of them and
// religion about a sixth. Once a year a national event raises race reports by 30% to
// 60% in most areas (80%) for four to eight weeks from the first week of a month;
// a few local rises (one area, one strand, 60% to 100% for two to four weeks) fall
// at other times. The engine runs every Monday, as the service would, and is scored
// on the share of risen areas flagged within the event's month and the alarm rate
// in quiet area-months, beside R's farringtonFlexible on the same areas' calendar
// months.

// NationalOptions shape the national scenario.
type NationalOptions struct {
	Seeds     []int
	Areas     int // 30 to 35 in the real boroughs' shape
	Years     int // years of data; the last EvalYears are evaluated
	EvalYears int
	Strands   []string
	Options   tension.EngineOptions
	// Rscript is the R interpreter's command ("" looks for Rscript on the path);
	// "none" leaves R out.
	Rscript string
}

// DefaultNationalOptions: 33 areas, 6 years of which the last 2 are evaluated.
func DefaultNationalOptions() NationalOptions {
	return NationalOptions{Seeds: []int{1, 2, 3, 4, 5}, Areas: 33, Years: 6, EvalYears: 2,
		Strands: []string{"race", "religion", "sexual_orientation", "disability", "transgender"},
		Options: NationalEngineOptions(tension.DefaultEngineOptions())}
}

// NationalEngineOptions are the engine's settings o for the scenario: its baseline
// detectors only (Farrington at both scales and the widespread test), without the
// cells, which the scenario does not place.
func NationalEngineOptions(o tension.EngineOptions) tension.EngineOptions {
	o.Detectors = []string{"farrington"}
	o.FarringtonRes = 0
	return o
}

// nationalMix is the share of each strand among the reports.
var nationalMix = []struct {
	strand string
	share  float64
}{{"race", 0.75}, {"religion", 0.15}, {"sexual_orientation", 0.05}, {"disability", 0.03}, {"transgender", 0.02}}

// Rise is the ground truth of one injected rise: its areas' counts of Strand were
// multiplied by 1+Size[i] from Start to End (days, both included).
type Rise struct {
	Start, End time.Time
	Strand     string
	Areas      []string
	Size       []float64
	National   bool
}

// NationalTown is one generated scenario.
type NationalTown struct {
	Areas      []geo.Area
	Incidents  []tension.MemoryIncident
	From, To   time.Time // the data's days
	EvalFrom   time.Time // the first day evaluated
	Rises      []Rise
	monthStart time.Time // the first whole calendar month
}

// NewNationalTown generates the scenario for a seed.
func NewNationalTown(seed int, o NationalOptions) *NationalTown {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6e6174696f6e616c))
	to := time.Date(2025, 12, 28, 0, 0, 0, 0, time.UTC) // a Sunday: the last run is the Monday after
	from := to.AddDate(-o.Years, 0, 1)
	t := &NationalTown{From: from, To: to, EvalFrom: to.AddDate(-o.EvalYears, 0, 1),
		monthStart: time.Date(from.Year(), from.Month()+1, 1, 0, 0, 0, 0, time.UTC)}
	// A grid of 5 km squares in south-east England.
	side := int(math.Ceil(math.Sqrt(float64(o.Areas))))
	const dLat, dLon = 0.045, 0.072
	rate := make([]float64, o.Areas)
	for i := range o.Areas {
		lat, lon := 51.30+float64(i/side)*dLat, -0.45+float64(i%side)*dLon
		ring := orb.Ring{{lon, lat}, {lon + dLon, lat}, {lon + dLon, lat + dLat}, {lon, lat + dLat}, {lon, lat}}
		t.Areas = append(t.Areas, geo.Area{ID: int32(i + 1), Level: "borough", Code: fmt.Sprintf("NB%02d", i+1),
			Name: fmt.Sprintf("Borough %d", i+1), Geometry: orb.MultiPolygon{{ring}}, Population: 150000 + rng.IntN(200000)})
		rate[i] = 20 + 60*rng.Float64() // reports a month
	}
	// One national event in each evaluated year, and local rises at other times.
	for y := range o.EvalYears {
		yearFrom := t.EvalFrom.AddDate(y, 0, 0)
		m := time.Date(yearFrom.Year(), yearFrom.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1+rng.IntN(9), 0)
		start := m.AddDate(0, 0, rng.IntN(7))
		r := Rise{Start: start, End: start.AddDate(0, 0, 28+rng.IntN(29)-1), Strand: "race", National: true}
		for _, i := range rng.Perm(o.Areas)[:int(math.Round(0.8*float64(o.Areas)))] {
			r.Areas = append(r.Areas, t.Areas[i].Code)
			r.Size = append(r.Size, 0.3+0.3*rng.Float64())
		}
		t.Rises = append(t.Rises, r)
		for range 3 {
			var s time.Time
			for {
				s = yearFrom.AddDate(0, 0, rng.IntN(330))
				if s.After(r.End.AddDate(0, 0, 56)) || s.Before(r.Start.AddDate(0, 0, -56)) {
					break
				}
			}
			strand := "race"
			if rng.Float64() < 0.3 {
				strand = "religion"
			}
			t.Rises = append(t.Rises, Rise{Start: s, End: s.AddDate(0, 0, 14+rng.IntN(15)-1), Strand: strand,
				Areas: []string{t.Areas[rng.IntN(o.Areas)].Code}, Size: []float64{0.6 + 0.4*rng.Float64()}})
		}
	}
	for i, a := range t.Areas {
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			years := d.Sub(from).Hours() / 24 / 365.25
			season := 1 + 0.12*math.Cos(2*math.Pi*(float64(d.YearDay())-196)/365.25) // a summer peak
			mean := rate[i] * 12 / 365.25 * season * math.Pow(1.03, years)
			for _, s := range nationalMix {
				lambda := mean * s.share
				for _, r := range t.Rises {
					if j := slices.Index(r.Areas, a.Code); j >= 0 && r.Strand == s.strand && !d.Before(r.Start) && !d.After(r.End) {
						lambda *= 1 + r.Size[j]
					}
				}
				for range poisson(rng, lambda) {
					t.Incidents = append(t.Incidents, tension.MemoryIncident{Day: d, Strands: []string{s.strand}, Areas: []int32{a.ID}})
				}
			}
		}
	}
	return t
}

// poisson draws a Poisson count by Knuth's method (the means here are small).
func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Source returns the town as the engine reads it.
func (t *NationalTown) Source(strands []string) *tension.MemorySource {
	return tension.NewMemorySource(t.Areas, t.Incidents, nil, strands)
}

// Mondays returns the days the engine runs over the evaluated years: every Monday.
func (t *NationalTown) Mondays() []time.Time {
	d := t.EvalFrom
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	var out []time.Time
	for ; !d.After(t.To.AddDate(0, 0, 1)); d = d.AddDate(0, 0, 7) {
		out = append(out, d)
	}
	return out
}

// An alarm is one area a detector flagged on a day.
type alarm struct {
	label   string // detector and time scale
	day     time.Time
	area    string
	strands []string // empty: all strands
}

// NationalScore is one detector's figures on the scenario.
type NationalScore struct {
	Detector            string
	Risen, Flagged      int // areas risen in a national event; of which flagged within the event's month
	Quiet, QuietAlarmed int // area-months with no injected rise; of which alarmed
}

// Flagging is the share of risen areas flagged within the event's month.
func (s NationalScore) Flagging() float64 { return ratio(s.Flagged, s.Risen) }

// QuietRate is the share of quiet area-months with an alarm.
func (s NationalScore) QuietRate() float64 { return ratio(s.QuietAlarmed, s.Quiet) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Labels of the engine's rows besides each detector and scale.
const labelEngine = "engine: any alarm"

// RunNational runs the engine every Monday over the evaluated years of a town and
// scores each detector and time scale, and the engine as a whole.
func RunNational(ctx context.Context, t *NationalTown, o NationalOptions) ([]NationalScore, error) {
	src := t.Source(o.Strands)
	eo := o.Options
	eo.Strands = o.Strands
	var alarms []alarm
	labels := []string{}
	for _, day := range t.Mondays() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep, err := tension.Run(ctx, src, day, eo)
		if err != nil {
			return nil, err
		}
		for _, f := range rep.Findings {
			label := f.Method
			if f.Scale != "" {
				label += ", " + f.Scale
			}
			if !slices.Contains(labels, label) {
				labels = append(labels, label)
			}
			for _, a := range f.Areas {
				alarms = append(alarms, alarm{label: label, day: day, area: a, strands: f.Strands})
				alarms = append(alarms, alarm{label: labelEngine, day: day, area: a, strands: f.Strands})
			}
		}
	}
	for _, l := range []string{"farrington, week", "farrington, 4 weeks", "widespread, week", "widespread, 4 weeks"} {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	slices.Sort(labels)
	labels = append(labels, labelEngine)
	var out []NationalScore
	for _, l := range labels {
		out = append(out, t.score(l, alarms))
	}
	return out, nil
}

// score counts, for alarms of one label, the risen areas flagged within their
// event's month (an alarm listing the area for the risen strand or all strands,
// raised from the event's first day to the end of its calendar month) and the
// quiet area-months alarmed (any alarm for the area on a day of that month).
func (t *NationalTown) score(label string, alarms []alarm) NationalScore {
	s := NationalScore{Detector: label}
	for _, r := range t.Rises {
		if !r.National {
			continue
		}
		monthEnd := time.Date(r.Start.Year(), r.Start.Month()+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		for _, area := range r.Areas {
			s.Risen++
			if slices.ContainsFunc(alarms, func(a alarm) bool {
				return a.label == label && a.area == area && !a.day.Before(r.Start) && !a.day.After(monthEnd) &&
					(len(a.strands) == 0 || slices.Contains(a.strands, r.Strand))
			}) {
				s.Flagged++
			}
		}
	}
	alarmed := map[string]bool{}
	for _, a := range alarms {
		if a.label == label {
			alarmed[a.area+"|"+a.day.Format("2006-01")] = true
		}
	}
	for _, m := range t.evalMonths() {
		for _, a := range t.Areas {
			if !t.quiet(a.Code, m) {
				continue
			}
			s.Quiet++
			if alarmed[a.Code+"|"+m.Format("2006-01")] {
				s.QuietAlarmed++
			}
		}
	}
	return s
}

// evalMonths are the whole calendar months evaluated.
func (t *NationalTown) evalMonths() []time.Time {
	m := time.Date(t.EvalFrom.Year(), t.EvalFrom.Month(), 1, 0, 0, 0, 0, time.UTC)
	if m.Before(t.EvalFrom) {
		m = m.AddDate(0, 1, 0)
	}
	var out []time.Time
	for ; !m.AddDate(0, 1, -1).After(t.To); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// quiet reports whether an area's month holds no injected rise: none of its rises'
// days, nor the 27 days after one (a four-week period ending then still holds it).
func (t *NationalTown) quiet(area string, month time.Time) bool {
	end := month.AddDate(0, 1, -1)
	for _, r := range t.Rises {
		if slices.Contains(r.Areas, area) && !r.Start.After(end) && !r.End.AddDate(0, 0, 27).Before(month) {
			return false
		}
	}
	return true
}

// Evaluate runs the national scenario for every seed and writes the table: per
// detector and time scale, and for R's farringtonFlexible on the calendar months
// when R is installed, the share of risen areas flagged within the event's month
// and the alarm rate in quiet area-months, per seed and over all seeds.
func (o NationalOptions) Evaluate(ctx context.Context, w0, progress io.Writer) error {
	rscript, rerr := findRscript(o.Rscript)
	w := tabwriter.NewWriter(w0, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "seed\tdetector\trisen areas\tflagged in the month\tshare\tquiet area-months\talarmed\tshare\t\n")
	total := map[string]*NationalScore{}
	var order []string
	add := func(seed string, s NationalScore) {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%d\t%d\t%s\t\n", seed, s.Detector, s.Risen, s.Flagged, pct(s.Flagging()), s.Quiet, s.QuietAlarmed, pct(s.QuietRate()))
	}
	for _, seed := range o.Seeds {
		start := time.Now()
		t := NewNationalTown(seed, o)
		scores, err := RunNational(ctx, t, o)
		if err != nil {
			return err
		}
		if rerr == nil {
			rs, err := t.RunR(ctx, rscript, o.Strands)
			if err != nil {
				return err
			}
			scores = append(scores, rs)
		}
		for _, s := range scores {
			add(fmt.Sprint(seed), s)
			if total[s.Detector] == nil {
				total[s.Detector] = &NationalScore{Detector: s.Detector}
				order = append(order, s.Detector)
			}
			tt := total[s.Detector]
			tt.Risen, tt.Flagged, tt.Quiet, tt.QuietAlarmed = tt.Risen+s.Risen, tt.Flagged+s.Flagged, tt.Quiet+s.Quiet, tt.QuietAlarmed+s.QuietAlarmed
		}
		fmt.Fprintf(progress, "national scenario, seed %d: %d incidents, evaluated in %s\n", seed, len(t.Incidents), time.Since(start).Round(time.Second))
	}
	for _, d := range order {
		add("all", *total[d])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if rerr != nil {
		fmt.Fprintln(w0, "R not installed: no farringtonFlexible column")
	}
	return nil
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}
