package tension

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var farrWriteInputs = flag.Bool("write-farrington-inputs", false,
	"write the Farrington reference inputs under testdata/reference/farrington for scripts/reference/farrington.R")

const farrRefDir = "../testdata/reference/farrington"

// farrSeriesLen and farrEvalFrom: 320 weeks (six years and a bit), the last 52
// evaluated; b=5 needs week 263 at the earliest. Series of Freq 12 or 13 periods
// a year run for twelve years (farrLongYears), the last five evaluated
// (farrLongEvalYears): b=5 and w=3 need period 68 at the earliest.
const (
	farrSeriesLen     = 320
	farrEvalFrom      = 268
	farrLongYears     = 12
	farrLongEvalYears = 5
)

// farrOutbreak adds Poisson(extra) cases a week for len weeks from start.
type farrOutbreak struct {
	start, len int
	extra      float64
}

// farrSpec describes a synthetic series of freq periods a year (0: 52 weeks): a
// mean of base * exp(amp sin(2 pi t/freq) + slope t/freq) (times shift from
// period shiftAt),
// negative binomial with dispersion disp (Poisson when disp <= 1), zero-inflated
// with probability zero, plus outbreaks.
type farrSpec struct {
	name      string
	seed      uint64
	freq      int // periods a year; 0 is 52
	base      float64
	amp       float64
	slope     float64 // log change per year
	disp      float64
	zero      float64
	shiftAt   int
	shift     float64
	holidays  bool // the last and first period of each year at a fifth
	outbreaks []farrOutbreak
	emptyTill int             // all zeros before this week
	pattern   []float64       // when set, the counts are this pattern repeated
	set       map[int]float64 // counts set by hand
}

func farrSpecs() []farrSpec {
	return []farrSpec{
		{name: "flat-0.2", seed: 1, base: 0.2},
		{name: "season-0.5", seed: 2, base: 0.5, amp: 0.5},
		{name: "season-1", seed: 3, base: 1, amp: 0.6},
		{name: "outbreaks-2", seed: 4, base: 2, amp: 0.3, outbreaks: []farrOutbreak{{60, 3, 6}, {170, 4, 5}, {225, 2, 8}, {290, 3, 6}, {310, 2, 7}}},
		{name: "nb-3", seed: 5, base: 3, disp: 2.5},
		{name: "season-5", seed: 6, base: 5, amp: 0.8},
		{name: "trend-up-5", seed: 7, base: 2.5, slope: 0.25},
		{name: "trend-weak-8", seed: 8, base: 8, slope: 0.02, amp: 0.2},
		{name: "outbreaks-10", seed: 9, base: 10, amp: 0.4, outbreaks: []farrOutbreak{{20, 3, 15}, {75, 2, 20}, {130, 4, 12}, {182, 3, 18}, {240, 2, 25}, {280, 3, 20}, {305, 2, 15}}},
		{name: "nb-15", seed: 10, base: 15, disp: 3, amp: 0.3},
		{name: "season-20", seed: 11, base: 20, amp: 0.7},
		{name: "trend-down-30", seed: 12, base: 45, slope: -0.15, amp: 0.2},
		{name: "season-50", seed: 13, base: 50, amp: 0.4},
		{name: "nb-50-outbreaks", seed: 14, base: 50, disp: 4, outbreaks: []farrOutbreak{{100, 3, 60}, {200, 2, 80}, {300, 3, 70}}},
		{name: "zero-inflated-2", seed: 15, base: 6, zero: 0.7, amp: 0.3},
		{name: "zero-inflated-10", seed: 16, base: 20, zero: 0.5},
		{name: "sparse-0.3-outbreak", seed: 17, base: 0.3, outbreaks: []farrOutbreak{{298, 6, 3}}},
		{name: "clusters-1", seed: 18, base: 1, amp: 0.3, outbreaks: []farrOutbreak{{272, 2, 4}, {285, 3, 5}, {301, 2, 6}, {315, 3, 4}}},
		{name: "step-4", seed: 19, base: 4, shiftAt: 250, shift: 2},
		{name: "trend-strong-12", seed: 20, base: 4, slope: 0.4, amp: 0.3},
		{name: "nearly-empty-0.05", seed: 21, base: 0.05},
		{name: "empty-then-cases", seed: 22, base: 2, emptyTill: 290},
		{name: "season-outbreak-25", seed: 23, base: 25, amp: 0.6, outbreaks: []farrOutbreak{{10, 3, 30}, {62, 3, 30}, {114, 3, 30}, {166, 3, 30}, {218, 3, 30}, {270, 3, 30}}},
		{name: "holidays-6", seed: 24, base: 6, holidays: true},
		{name: "trend-nb-20", seed: 25, base: 12, slope: 0.2, disp: 1.5},
		{name: "trend-up-1", seed: 26, base: 0.5, slope: 0.35, amp: 0.4},
		{name: "high-80", seed: 27, base: 80, amp: 0.3, disp: 1.3},
		// edge cases: fits that run to the log link's floor, counts in the millions
		{name: "all-zero", pattern: []float64{0}},
		{name: "zeros-few-cases", pattern: []float64{0}, set: map[int]float64{99: 1, 290: 1, 300: 3, 301: 2, 315: 2}},
		{name: "zeros-cases-in-windows", pattern: []float64{0}, set: map[int]float64{49: 1, 101: 1, 153: 2, 205: 1, 257: 1, 280: 2, 281: 3, 309: 4}},
		{name: "huge-counts", pattern: []float64{1e6, 1.2e6, 1.1e6, 0.9e6}, set: map[int]float64{300: 1.6e6}},
	}
}

// farrPoisson draws a Poisson(lambda) by inversion.
func farrPoisson(r *rand.Rand, lambda float64) float64 {
	if lambda <= 0 {
		return 0
	}
	u := r.Float64()
	p := math.Exp(-lambda)
	f, x := p, 0.0
	for u > f && p > 0 {
		x++
		p *= lambda / x
		f += p
	}
	return x
}

// farrNegBin draws a negative binomial with mean mu and variance disp*mu by inversion.
func farrNegBin(r *rand.Rand, mu, disp float64) float64 {
	if disp <= 1 {
		return farrPoisson(r, mu)
	}
	size, prob := mu/(disp-1), 1/disp
	u := r.Float64()
	p := math.Pow(prob, size)
	f, x := p, 0.0
	for u > f && p > 0 {
		p *= (x + size) / (x + 1) * (1 - prob)
		x++
		f += p
	}
	return x
}

// farrLongShapes are series of months or four-weekly periods shaped like the
// hate crime of a borough or a ward: 20-80 a month with seasonality and a
// trend, sparse ones with 0-3 a month, rises. Means are per month; the
// four-weekly versions have 12/13 of them.
func farrLongShapes() []farrSpec {
	return []farrSpec{
		{name: "borough-40", base: 40, amp: 0.25, slope: 0.05, disp: 1.5},
		{name: "borough-25", base: 25, amp: 0.3, slope: 0.08, disp: 1.3},
		{name: "borough-70", base: 70, amp: 0.2, slope: -0.03, disp: 2},
		{name: "borough-rise-50", base: 50, amp: 0.2, slope: 0.04, disp: 1.4, outbreaks: []farrOutbreak{{101, 2, 25}, {125, 1, 30}, {138, 2, 20}}},
		{name: "season-10", base: 10, amp: 0.6},
		{name: "nb-15-rise", base: 15, disp: 3, outbreaks: []farrOutbreak{{110, 2, 15}, {131, 1, 25}}},
		{name: "sparse-1", base: 1, amp: 0.3},
		{name: "sparse-0.3", base: 0.3},
		{name: "sparse-rise-1.5", base: 1.5, outbreaks: []farrOutbreak{{100, 1, 4}, {130, 2, 4}}},
		{name: "sparse-decline-3", base: 3, slope: -0.4},
		{name: "empty-then-cases", base: 2, emptyTill: 120},
		{name: "zeros-few-cases", pattern: []float64{0}, set: map[int]float64{20: 1, 61: 2, 100: 1, 118: 1, 130: 3, 131: 2}},
	}
}

// farrLongSpecs are farrLongShapes at 12 periods a year (months) and 13
// (four-weekly periods), seeded apart.
func farrLongSpecs() []farrSpec {
	var out []farrSpec
	for _, freq := range []int{12, 13} {
		for i, s := range farrLongShapes() {
			s.name = fmt.Sprintf("f%d-%s", freq, s.name)
			s.freq = freq
			s.seed = uint64(100*freq + i)
			s.base *= 12 / float64(freq)
			out = append(out, s)
		}
	}
	return out
}

// length and evalFrom are the length of the reference series and its first
// evaluated period.
func (s farrSpec) length() int {
	if s.freq == 0 {
		return farrSeriesLen
	}
	return farrLongYears * s.freq
}

func (s farrSpec) evalFrom() int {
	if s.freq == 0 {
		return farrEvalFrom
	}
	return (farrLongYears - farrLongEvalYears) * s.freq
}

func (s farrSpec) generate(n int) []float64 {
	r := rand.New(rand.NewPCG(s.seed, 0x5eed))
	freq := s.freq
	if freq == 0 {
		freq = 52
	}
	out := make([]float64, n)
	if s.pattern != nil {
		for t := range out {
			out[t] = s.pattern[t%len(s.pattern)]
		}
		for t, y := range s.set {
			if t < n {
				out[t] = y
			}
		}
		return out
	}
	for t := range n {
		mu := s.base * math.Exp(s.amp*math.Sin(2*math.Pi*float64(t)/float64(freq))+s.slope*float64(t)/float64(freq))
		if s.shiftAt > 0 && t >= s.shiftAt {
			mu *= s.shift
		}
		if s.holidays && (t%freq == freq-1 || t%freq == 0) {
			mu /= 5
		}
		y := farrNegBin(r, mu, s.disp)
		if r.Float64() < s.zero {
			y = 0
		}
		for _, o := range s.outbreaks {
			if t >= o.start && t < o.start+o.len {
				y += farrPoisson(r, o.extra)
			}
		}
		if t < s.emptyTill {
			y = 0
		}
		out[t] = y
	}
	return out
}

// farrConfig is a named parameter set of the reference runs.
type farrConfig struct {
	name string
	o    FarringtonOptions
}

func farrConfigs() []farrConfig {
	orig, nouf := FarringtonOriginal(), FarringtonNoufaily()
	with := func(o FarringtonOptions, f func(*FarringtonOptions)) FarringtonOptions { f(&o); return o }
	return []farrConfig{
		{"original", orig},
		{"noufaily", nouf},
		{"original-nbplugin", with(orig, func(o *FarringtonOptions) { o.ThresholdMethod = FarringtonNBPlugin })},
		{"noufaily-delta", with(nouf, func(o *FarringtonOptions) { o.ThresholdMethod = FarringtonDelta })},
		{"noufaily-muan", with(nouf, func(o *FarringtonOptions) { o.ThresholdMethod = FarringtonMuan })},
		{"original-sqrt", with(orig, func(o *FarringtonOptions) { o.PowerTrans = FarringtonPowerHalf; o.Alpha = 0.01 })},
		{"original-none", with(orig, func(o *FarringtonOptions) { o.PowerTrans = FarringtonPowerNone; o.Alpha = 0.1 })},
		// farringtonFlexible's own defaults: b=5, w=3, weightsThreshold 2.58, pastWeeksNotIncluded = w
		{"r-defaults", with(orig, func(o *FarringtonOptions) { o.B = 5; o.WeightsThreshold = 2.58 })},
		{"plain-b3", FarringtonOptions{B: 3, W: 2, NoPeriods: 4, Reweight: false, WeightsThreshold: 2.58,
			PastWeeksNotIncluded: 10, Trend: false, TrendThreshold: 0.05, Alpha: 0.1,
			ThresholdMethod: FarringtonNBPlugin, PowerTrans: FarringtonPowerTwoThirds,
			Limit54Cases: 3, Limit54Weeks: 2, Freq: 52}},
		// months (Freq 12) and four-weekly periods (Freq 13), run on the series of
		// the same frequency only
		{"noufaily-m", with(nouf, func(o *FarringtonOptions) { o.Freq = 12; o.PastWeeksNotIncluded = 6 })},
		{"noufaily-m-pw26", with(nouf, func(o *FarringtonOptions) { o.Freq = 12 })},
		{"noufaily-m-w2-b5", with(nouf, func(o *FarringtonOptions) {
			o.Freq, o.W, o.B, o.PastWeeksNotIncluded, o.Limit54Weeks = 12, 2, 5, 3, 1
		})},
		{"noufaily-m-w1", FarringtonNoufailyPeriods(12)},
		{"noufaily-m-w1-muan-b3", with(FarringtonNoufailyPeriods(12), func(o *FarringtonOptions) {
			o.B, o.ThresholdMethod, o.NoPeriods = 3, FarringtonMuan, 4
		})},
		{"original-m", with(orig, func(o *FarringtonOptions) { o.Freq = 12 })},
		{"original-m-w1-b5", with(orig, func(o *FarringtonOptions) {
			o.Freq, o.W, o.B, o.PastWeeksNotIncluded, o.Limit54Weeks = 12, 1, 5, 1, 1
		})},
		{"original-m-w2-b3-p4", with(orig, func(o *FarringtonOptions) {
			o.Freq, o.W, o.B, o.NoPeriods, o.PastWeeksNotIncluded, o.Limit54Weeks = 12, 2, 3, 4, 2, 1
		})},
		{"plain-m-p12", FarringtonOptions{B: 3, W: 3, NoPeriods: 12, Reweight: false, WeightsThreshold: 2.58,
			PastWeeksNotIncluded: 4, Trend: false, TrendThreshold: 0.05, Alpha: 0.05,
			ThresholdMethod: FarringtonNBPlugin, PowerTrans: FarringtonPowerTwoThirds,
			Limit54Cases: 3, Limit54Weeks: 1, Freq: 12}},
		{"noufaily-m-p1", with(nouf, func(o *FarringtonOptions) {
			o.Freq, o.W, o.NoPeriods, o.PastWeeksNotIncluded, o.Limit54Weeks = 12, 2, 1, 2, 1
		})},
		{"noufaily-13", FarringtonNoufailyPeriods(13)},
		{"noufaily-13-w3", with(nouf, func(o *FarringtonOptions) { o.Freq = 13; o.PastWeeksNotIncluded = 7 })},
		{"original-13", with(orig, func(o *FarringtonOptions) { o.Freq = 13; o.W = 1; o.PastWeeksNotIncluded = 1 })},
	}
}

func farrInputFiles() map[string][]byte {
	var series, meta, configs bytes.Buffer
	series.WriteString("series,t,count\n")
	meta.WriteString("series,from,to,freq\n")
	for _, s := range append(farrSpecs(), farrLongSpecs()...) {
		n := s.length()
		for t, y := range s.generate(n) {
			fmt.Fprintf(&series, "%s,%d,%g\n", s.name, t, y)
		}
		freq := cmp.Or(s.freq, 52)
		fmt.Fprintf(&meta, "%s,%d,%d,%d\n", s.name, s.evalFrom(), n-1, freq)
	}
	configs.WriteString("name,b,w,noPeriods,reweight,weightsThreshold,pastWeeksNotIncluded,trend,pThresholdTrend,alpha,thresholdMethod,powertrans,limit54Cases,limit54Weeks,freq\n")
	tf := func(b bool) string { return strings.ToUpper(strconv.FormatBool(b)) }
	for _, c := range farrConfigs() {
		o := c.o
		fmt.Fprintf(&configs, "%s,%d,%d,%d,%s,%g,%d,%s,%g,%g,%s,%s,%d,%d,%d\n", c.name, o.B, o.W, o.NoPeriods,
			tf(o.Reweight), o.WeightsThreshold, o.PastWeeksNotIncluded, tf(o.Trend), o.TrendThreshold, o.Alpha,
			o.ThresholdMethod, o.PowerTrans, o.Limit54Cases, o.Limit54Weeks, o.Freq)
	}
	return map[string][]byte{"series.csv": series.Bytes(), "series-meta.csv": meta.Bytes(), "configs.csv": configs.Bytes()}
}

// TestFarringtonReferenceInputs writes the inputs of scripts/reference/farrington.R
// with -write-farrington-inputs; otherwise it checks that the committed ones are
// what the generator makes, so the goldens belong to this code.
func TestFarringtonReferenceInputs(t *testing.T) {
	files := farrInputFiles()
	if *farrWriteInputs {
		if err := os.MkdirAll(farrRefDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(farrRefDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %d series and %d parameter sets to %s", len(farrSpecs())+len(farrLongSpecs()), len(farrConfigs()), farrRefDir)
		return
	}
	for name, b := range files {
		got, err := os.ReadFile(filepath.Join(farrRefDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s differs from what the generator writes: run scripts/r-reference.sh", name)
		}
	}
}

type farrGolden struct {
	config, series                  string
	t                               int
	upper, expected, score, phi, pv float64
	alarm, trend                    string // "1", "0" or "NA"
	limUpper                        float64
	limAlarm                        string
}

func farrReadCSV(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(farrRefDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

func farrParse(t *testing.T, s string) float64 {
	t.Helper()
	if s == "NA" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func farrReadSeries(t *testing.T) map[string][]float64 {
	series := map[string][]float64{}
	for _, r := range farrReadCSV(t, "series.csv") {
		series[r[0]] = append(series[r[0]], farrParse(t, r[2]))
	}
	return series
}

// farrRelErr is |got-want| / |want|, or |got-want| when want is 0.
func farrRelErr(got, want float64) float64 {
	if math.IsNaN(got) && math.IsNaN(want) {
		return 0
	}
	d := math.Abs(got - want)
	if want == 0 {
		return d
	}
	return d / math.Abs(want)
}

// TestFarringtonAgainstR compares Farrington with the goldens of
// surveillance::farringtonFlexible on weekly, monthly and four-weekly series:
// upper bounds and expected counts to 1e-6 relative, identical alarms, trends
// and NA patterns.
func TestFarringtonAgainstR(t *testing.T) {
	series := farrReadSeries(t)
	configs := map[string]FarringtonOptions{}
	for _, c := range farrConfigs() {
		configs[c.name] = c.o
	}
	rows := farrReadCSV(t, "golden.csv")
	if len(rows) == 0 {
		t.Fatal("no goldens")
	}
	type stat struct {
		n, alarms, limAlarms, trends, noTrends, fewCases, na, noise int
		upper, expected, score, phi, pv                             float64
	}
	stats := map[string]*stat{}
	var order []string
	seriesOf := map[string]map[string]bool{}
	for _, r := range rows {
		g := farrGolden{config: r[0], series: r[1], t: int(farrParse(t, r[2])),
			upper: farrParse(t, r[3]), expected: farrParse(t, r[4]), score: farrParse(t, r[5]),
			alarm: r[6], trend: r[7], phi: farrParse(t, r[8]), pv: farrParse(t, r[9]),
			limUpper: farrParse(t, r[10]), limAlarm: r[11]}
		o, ok := configs[g.config]
		if !ok {
			t.Fatalf("golden for unknown config %q", g.config)
		}
		st := stats[g.config]
		if st == nil {
			st = &stat{}
			stats[g.config] = st
			order = append(order, g.config)
			seriesOf[g.config] = map[string]bool{}
		}
		seriesOf[g.config][g.series] = true
		st.n++
		where := fmt.Sprintf("%s/%s week %d", g.config, g.series, g.t)
		counts := series[g.series]
		raw := o
		raw.Limit54Cases = 0
		got, err := Farrington(counts, g.t, raw)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		lim, err := Farrington(counts, g.t, o)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if math.IsNaN(g.upper) {
			st.na++
			if got.Reason != FarringtonReasonNoFit {
				t.Errorf("%s: R has no bound, Go %+v", where, got)
			}
			continue
		}
		if got.Reason != "" {
			t.Errorf("%s: Go gives up (%s), R's bound is %g", where, got.Reason, g.upper)
			continue
		}
		if want := g.trend == "1"; got.TrendUsed != want {
			// A trend whose coefficient is zero up to rounding (all baseline counts
			// zero but in one seasonal level) has a p-value of 1 up to rounding, and
			// with TrendThreshold 1 R keeps or drops it by the sign of that noise.
			if p := farrTrendP(counts, g.t, o); p > 1-1e-9 {
				st.noise++
				t.Logf("%s: trend Go %v R %v with a p-value of 1 - %.2g: the rest of the week not compared", where, got.TrendUsed, want, 1-p)
				continue
			}
			t.Errorf("%s: trend Go %v R %v", where, got.TrendUsed, want)
		}
		y := counts[g.t]
		// R's score: for nbPlugin and muan it is computed with the log of the mean
		rScore := got.Score
		if o.ThresholdMethod != FarringtonDelta {
			le := math.Log(got.Expected)
			rScore = (y - le) / (got.Upper - le)
		}
		for _, c := range []struct {
			what      string
			got, want float64
			max       *float64
			tol       float64
		}{
			{"upper", got.Upper, g.upper, &st.upper, 1e-6},
			{"expected", got.Expected, g.expected, &st.expected, 1e-6},
			{"score", rScore, g.score, &st.score, 1e-6},
			{"phi", got.Phi, g.phi, &st.phi, 1e-6},
			{"pvalue", got.PValue, g.pv, &st.pv, 1e-6},
		} {
			e := farrRelErr(c.got, c.want)
			if c.what == "pvalue" && math.Abs(c.got-c.want) < 1e-12 {
				e = 0
			}
			if c.what == "score" { // near 0 when the count is the expected one: absolute
				e = math.Abs(c.got-c.want) / max(1, math.Abs(c.want))
			}
			if e > 1e-9 && os.Getenv("FARR_DEBUG") != "" {
				t.Logf("%s: %s Go %.17g R %.17g (relative error %.3g)", where, c.what, c.got, c.want, e)
			}
			*c.max = max(*c.max, e)
			tol := c.tol
			if c.what == "upper" && o.ThresholdMethod == FarringtonMuan && c.want > 1e15 {
				// muan on nearly empty series: R's dispersion (see irls) makes the
				// standard error of log mu huge and the bound absurd (1e20 to 1e42
				// cases); qpois and qnbinom resolve such quantiles coarsely.
				tol = 1e-5
			}
			if c.what == "expected" && farrNonZeroBaseline(counts, g.t, o) <= 1 {
				// one case in the whole baseline: every seasonal level but one is all
				// zeros and its coefficient runs towards -Inf with each iteration, so
				// the model is not identified and the prediction (trend plus an
				// empty level) is wherever 25 iterations of IRLS left it, in R as
				// here; both bounds are 0 and the alarms agree.
				tol = 1e-4
			}
			if !(e <= tol) {
				t.Errorf("%s: %s Go %.17g R %.17g (relative error %.3g)", where, c.what, c.got, c.want, e)
			}
		}
		if want := g.alarm == "1"; got.Alarm != want {
			t.Errorf("%s: alarm (limit54 off) Go %v R %v (y=%g upper=%g)", where, got.Alarm, want, y, got.Upper)
		}
		if got.Alarm {
			st.alarms++
		}
		if got.TrendUsed {
			st.trends++
		} else {
			st.noTrends++
		}
		// with limit54: R reports no bound and no alarm when too few cases
		if want := g.limAlarm == "1"; lim.Alarm != want {
			t.Errorf("%s: alarm Go %v R %v", where, lim.Alarm, want)
		}
		if lim.Alarm {
			st.limAlarms++
		}
		if few := math.IsNaN(g.limUpper); few != (lim.Reason != "") {
			t.Errorf("%s: R bound with limit54 %g, Go reason %q", where, g.limUpper, lim.Reason)
		} else if few {
			st.fewCases++
		} else if lim.Upper != got.Upper || farrRelErr(lim.Upper, g.limUpper) > 1e-6 {
			t.Errorf("%s: upper with limit54 Go %g R %g", where, lim.Upper, g.limUpper)
		}
	}
	for _, c := range farrConfigs() {
		if stats[c.name] == nil {
			t.Errorf("%s: no goldens", c.name)
		}
	}
	for _, name := range order {
		st := stats[name]
		t.Logf("%-18s %2d series, %4d weeks: max relative error upper %.2g expected %.2g score %.2g phi %.2g pvalue %.2g; "+
			"alarms %d (%d with limit54), trend kept %d dropped %d, too few cases %d, no fit %d, trend by rounding noise %d",
			name, len(seriesOf[name]), st.n, st.upper, st.expected, st.score, st.phi, st.pv,
			st.alarms, st.limAlarms, st.trends, st.noTrends, st.fewCases, st.na, st.noise)
		// Sparse series of months have more of these weeks: a seasonal level holds
		// 4 to 8 months of baseline, often all zeros.
		maxNoise := 2
		if configs[name].Freq != 52 {
			maxNoise = st.n / 50
		}
		if st.noise > maxNoise {
			t.Errorf("%s: %d weeks where the trend is decided by rounding noise", name, st.noise)
		}
		if want := farrSeriesOfFreq(configs[name].Freq); len(seriesOf[name]) != want {
			t.Errorf("%s: %d series, want the %d of Freq %d", name, len(seriesOf[name]), want, configs[name].Freq)
		}
	}
	// the original method keeps the trend of trend-up-5 and drops that of flat-0.2
	kept := map[string]int{}
	for _, r := range rows {
		if r[0] == "original" && r[7] == "1" {
			kept[r[1]]++
		}
	}
	if kept["trend-up-5"] < 40 || kept["flat-0.2"] != 0 {
		t.Errorf("original: weeks with the trend kept: trend-up-5 %d, flat-0.2 %d", kept["trend-up-5"], kept["flat-0.2"])
	}
	for _, name := range []string{"original", "noufaily"} {
		if st := stats[name]; st == nil || st.trends == 0 || st.noTrends == 0 || st.limAlarms == 0 {
			t.Errorf("%s: the goldens should have weeks with and without the trend and alarms: %+v", name, st)
		}
	}
}

// farrNonZeroBaseline is the number of baseline weeks of week t with cases.
func farrNonZeroBaseline(counts []float64, t int, o FarringtonOptions) int {
	var ws farrWork
	ws.build(counts, t, &o)
	n := 0
	for _, y := range ws.d.y {
		if y > 0 {
			n++
		}
	}
	return n
}

// farrSeriesOfFreq is how many reference series have freq periods a year.
func farrSeriesOfFreq(freq int) int {
	n := 0
	for _, s := range append(farrSpecs(), farrLongSpecs()...) {
		if cmp.Or(s.freq, 52) == freq {
			n++
		}
	}
	return n
}

// farrTrendP is the p-value of the trend in the reweighted model with the trend
// that Farrington fits first for week t (NaN when it has no trend).
func farrTrendP(counts []float64, t int, o FarringtonOptions) float64 {
	var ws farrWork
	ws.build(counts, t, &o)
	f, _ := ws.fitFlexible(0, o.Trend, &o)
	if f == nil || !f.trend {
		return math.NaN()
	}
	return f.trendPValue()
}

// TestFarringtonBlocksAgainstR checks the reference weeks and seasonal levels
// against surveillance:::blocks (written by the R script into blocks.csv).
func TestFarringtonBlocksAgainstR(t *testing.T) {
	rows := farrReadCSV(t, "blocks.csv")
	type key struct{ k, freq, b, w, p int }
	want := map[key][]int{}
	var keys []key
	for _, r := range rows {
		var v [6]int
		for i := range v {
			x := farrParse(t, r[i])
			if math.IsNaN(x) {
				v[i] = 0
			} else {
				v[i] = int(x)
			}
		}
		kk := key{v[0], v[1], v[2], v[3], v[4]}
		if _, ok := want[kk]; !ok {
			keys = append(keys, kk)
		}
		want[kk] = append(want[kk], v[5])
	}
	if len(keys) == 0 {
		t.Fatal("no blocks goldens")
	}
	for _, kk := range keys {
		got := farrBlocks(nil, kk.k, kk.freq, kk.b, kk.w, kk.p)[1:]
		if fmt.Sprint(got) != fmt.Sprint(want[kk]) {
			t.Errorf("blocks(k=%d freq=%d b=%d w=%d p=%d):\n Go %v\n R  %v", kk.k, kk.freq, kk.b, kk.w, kk.p, got, want[kk])
		}
	}
}

func TestFarringtonOptions(t *testing.T) {
	o := FarringtonOriginal()
	if o.B != 4 || o.W != 3 || o.NoPeriods != 1 || o.WeightsThreshold != 1 || o.PastWeeksNotIncluded != 3 ||
		o.TrendThreshold != 0.05 || o.ThresholdMethod != "delta" || o.Alpha != 0.05 || o.Freq != 52 {
		t.Errorf("original: %+v", o)
	}
	n := FarringtonNoufaily()
	if n.B != 4 || n.W != 3 || n.NoPeriods != 10 || n.WeightsThreshold != 2.58 || n.PastWeeksNotIncluded != 26 ||
		n.TrendThreshold != 1 || n.ThresholdMethod != "nbPlugin" || n.Limit54Cases != 5 || n.Limit54Weeks != 4 {
		t.Errorf("noufaily: %+v", n)
	}
	counts := make([]float64, 300)
	for i := range counts {
		counts[i] = float64(i % 7)
	}
	for name, f := range map[string]func(*FarringtonOptions){
		"B":    func(o *FarringtonOptions) { o.B = 0 },
		"W":    func(o *FarringtonOptions) { o.W = -1 },
		"Freq": func(o *FarringtonOptions) { o.Freq = 0 },
		// R: "Number of factors too big!"
		"NoPeriods": func(o *FarringtonOptions) { o.NoPeriods = 53 },
		// R would take weeks after the current one into the baseline
		"W past the year":   func(o *FarringtonOptions) { o.W = 53; o.NoPeriods = 1 },
		"W a year, periods": func(o *FarringtonOptions) { o.W = 52 },
		"Alpha":             func(o *FarringtonOptions) { o.Alpha = 1 },
		"method":            func(o *FarringtonOptions) { o.ThresholdMethod = "Noufaily" },
		"power":             func(o *FarringtonOptions) { o.PowerTrans = "1/3" },
		"limit54":           func(o *FarringtonOptions) { o.Limit54Weeks = 0 },
		"past":              func(o *FarringtonOptions) { o.PastWeeksNotIncluded = -1 },
	} {
		o := FarringtonNoufaily()
		f(&o)
		if _, err := Farrington(counts, 299, o); err == nil {
			t.Errorf("%s: no error for %+v", name, o)
		}
		if _, err := FarringtonRange(counts, 250, 299, o); err == nil {
			t.Errorf("%s: no error from FarringtonRange", name)
		}
	}
	// what R accepts: blocks of one week, empty blocks, as many levels as weeks
	for _, c := range []struct{ freq, w, noPeriods int }{
		{52, 3, 46}, {52, 3, 47}, {52, 3, 52}, {52, 52, 1}, {12, 3, 10}, {12, 2, 10}, {12, 1, 10}, {12, 3, 12}, {13, 3, 10}, {12, 6, 12},
	} {
		o := FarringtonNoufaily()
		o.Freq, o.W, o.NoPeriods, o.B = c.freq, c.w, c.noPeriods, 3
		if _, err := Farrington(counts, 299, o); err != nil {
			t.Errorf("Freq %d W %d NoPeriods %d: %v", c.freq, c.w, c.noPeriods, err)
		}
	}
	bad := append([]float64(nil), counts...)
	bad[10] = -1
	if _, err := Farrington(bad, 299, n); err == nil {
		t.Error("negative count accepted")
	}
	bad[10] = math.NaN()
	if _, err := Farrington(bad, 299, n); err == nil {
		t.Error("NaN count accepted")
	}
	if _, err := Farrington(counts, 300, n); err == nil {
		t.Error("week past the end accepted")
	}
}

func TestFarringtonHistory(t *testing.T) {
	o := FarringtonNoufaily()
	first := FarringtonFirstWeek(o)
	if first != 52*4+3 {
		t.Fatalf("first week %d", first)
	}
	counts := farrSpecs()[5].generate(first + 10)
	if _, err := Farrington(counts, first-1, o); !errors.Is(err, ErrFarringtonShortHistory) {
		t.Errorf("week %d: %v", first-1, err)
	}
	if _, err := Farrington(counts, first, o); err != nil {
		t.Errorf("week %d: %v", first, err)
	}
	res, err := FarringtonRange(counts, first-2, first+9, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 12 {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		wk := first - 2 + i
		if (wk < first) != (r.Reason == FarringtonReasonShortHistory) {
			t.Errorf("week %d: %+v", wk, r)
		}
		if wk >= first {
			one, _ := Farrington(counts, wk, o)
			if fmt.Sprint(one) != fmt.Sprint(r) {
				t.Errorf("week %d: range %+v, alone %+v", wk, r, one)
			}
		}
	}
	// counts after t are not used
	long := append(append([]float64(nil), counts...), 1000, 1000)
	a, _ := Farrington(counts, first+5, o)
	b, _ := Farrington(long, first+5, o)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("future counts changed the result: %+v vs %+v", a, b)
	}
	if _, err := FarringtonRange(counts, 5, 4, o); err == nil {
		t.Error("empty range accepted")
	}
}

func TestFarringtonLimit54(t *testing.T) {
	o := FarringtonOriginal()
	counts := make([]float64, 300)
	for i := range counts {
		counts[i] = float64(i % 2) // mean 0.5
	}
	// 4 cases in the last 4 weeks, one of them a big jump now: no alarm
	counts[296], counts[297], counts[298], counts[299] = 0, 0, 0, 4
	r, err := Farrington(counts, 299, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Alarm || r.Reason != "too few cases in the last 4 weeks" || !(r.Upper < 4) {
		t.Errorf("4 cases: %+v", r)
	}
	counts[299] = 5
	r, _ = Farrington(counts, 299, o)
	if !r.Alarm || r.Reason != "" || !(r.Score > 1) {
		t.Errorf("5 cases: %+v", r)
	}
}

func TestFarringtonQuantiles(t *testing.T) {
	// values from R 4.2
	for _, c := range []struct{ p, size, prob, want float64 }{
		{0.95, 2, 0.5, 6},    // qnbinom(0.95, 2, 0.5)
		{0.95, 10, 0.25, 50}, // qnbinom(0.95, 10, 0.25)
		{0.95, 0.01, 0.9, 0},
		{0.5, 1, 0.5, 0},
	} {
		if got := farrQNBinom(c.p, c.size, c.prob); got != c.want {
			t.Errorf("qnbinom(%g, %g, %g) = %g, want %g", c.p, c.size, c.prob, got, c.want)
		}
	}
	for _, c := range []struct{ p, lambda, want float64 }{
		{0.95, 1, 3}, {0.95, 10, 15}, {0.95, 100, 117}, {0.95, 1e-12, 0}, {0.99, 0.5, 3},
	} {
		if got := farrQPois(c.p, c.lambda); got != c.want {
			t.Errorf("qpois(%g, %g) = %g, want %g", c.p, c.lambda, got, c.want)
		}
	}
}

// TestFarringtonRobust runs odd options and odd series (monthly, wide windows, the
// most seasonal levels allowed, empty blocks, no reweighting, the sparse floor,
// counts from 0 to millions) and
// checks that every evaluated week gets finite, non-negative numbers or a reason.
func TestFarringtonRobust(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	methods := []string{FarringtonDelta, FarringtonNBPlugin, FarringtonMuan}
	powers := []string{FarringtonPowerTwoThirds, FarringtonPowerHalf, FarringtonPowerNone}
	for i := range 300 {
		freq := []int{52, 12, 13, 26}[r.IntN(4)]
		w := r.IntN(max(1, freq/4))
		o := FarringtonOptions{
			B: 1 + r.IntN(5), W: w, NoPeriods: 1, Reweight: r.IntN(2) == 0,
			WeightsThreshold: []float64{1, 2.58, 0}[r.IntN(3)], PastWeeksNotIncluded: r.IntN(30),
			Trend: r.IntN(2) == 0, TrendThreshold: []float64{0.05, 1}[r.IntN(2)],
			Alpha: []float64{0.01, 0.05, 0.3}[r.IntN(3)], ThresholdMethod: methods[r.IntN(3)],
			PowerTrans: powers[r.IntN(3)], Limit54Cases: r.IntN(6), Limit54Weeks: 1 + r.IntN(4), Freq: freq,
		}
		if r.IntN(2) == 0 {
			o.NoPeriods = 1 + r.IntN(freq) // up to R's limit: empty blocks from freq-2w on
		}
		if r.IntN(3) == 0 {
			o.SparseFloor = FarringtonSparseFloor
		}
		n := FarringtonFirstWeek(o) + 1 + r.IntN(60)
		spec := farrSpecs()[r.IntN(len(farrSpecs()))]
		spec.seed = uint64(i)
		counts := spec.generate(n)
		if r.IntN(5) == 0 {
			for j := range counts {
				counts[j] *= 1e4
			}
		}
		from := max(0, n-10)
		res, err := FarringtonRange(counts, from, n-1, o)
		if err != nil {
			t.Fatalf("%d: %+v: %v", i, o, err)
		}
		for j, x := range res {
			if x.Reason == FarringtonReasonShortHistory || x.Reason == FarringtonReasonNoFit {
				continue
			}
			if !(x.Upper >= 0) || math.IsInf(x.Upper, 0) || !(x.Expected >= 0) || !(x.Phi >= 1) {
				t.Errorf("%d week %d: %+v with %+v", i, from+j, x, o)
			}
		}
	}
}

// TestFarringtonSparseFloor checks FarringtonOptions.SparseFloor on the series
// where R's expected count runs to nothing, on a dense series it must leave
// alone, and on a truly sparse one where no alarm may come of it.
func TestFarringtonSparseFloor(t *testing.T) {
	const week = 299 // 0-based; with the Noufaily options the baseline is weeks 88..272
	const baselineWeeks = 273 - 88
	weekly := func(set func(c []float64)) []float64 {
		c := make([]float64, week+1)
		set(c)
		return c
	}
	// One case in each of eight early weeks between the windows (0-based weeks 100
	// to 130; the windows around week 299 of past years are 88..94, 140..146,
	// 192..198 and 244..250), none since: R's trend runs from 0.4 a week down to
	// nothing, and the windows' own level is all zeros.
	fewEarly := weekly(func(c []float64) {
		for _, i := range []int{100, 101, 105, 110, 115, 120, 125, 130} {
			c[i] = 1
		}
		c[week] = 2
	})
	// One case a week from week 88 to 160, none since: the trend runs to nothing,
	// but the windows of the first two years hold 14 cases in their 28 weeks.
	declined := weekly(func(c []float64) {
		for i := 88; i <= 160; i++ {
			c[i] = 1
		}
		c[week] = 2
	})
	nouf := FarringtonNoufaily()
	floored := nouf
	floored.SparseFloor = FarringtonSparseFloor
	for _, c := range []struct {
		name      string
		counts    []float64
		o         FarringtonOptions
		want      float64 // the expected count with the floor, by hand
		floored   bool
		rExpected float64 // the expected count without it is below this
	}{
		// the floor: a fifth of (8 cases + 1/2) / 185 weeks
		{"few early cases", fewEarly, floored, FarringtonSparseFloor * 8.5 / baselineWeeks, true, 1e-6},
		// the trend's prediction is below the floor, a fifth of (73 + 1/2) / 185:
		// dropped; the model without trend predicts the windows' mean, 14/28
		{"declined", declined, floored, 0.5, false, 0.01},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Farrington(c.counts, week, nouf)
			if err != nil {
				t.Fatal(err)
			}
			if !(r.Expected < c.rExpected) || !r.TrendUsed {
				t.Errorf("without the floor: expected %g with trend %v, want below %g with the trend (R's extrapolation)", r.Expected, r.TrendUsed, c.rExpected)
			}
			got, err := Farrington(c.counts, week, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Expected-c.want) > 1e-9*c.want || got.Floored != c.floored || got.TrendUsed {
				t.Errorf("expected %.10g (floored %v, trend %v), want %.10g (floored %v, no trend)", got.Expected, got.Floored, got.TrendUsed, c.want, c.floored)
			}
			if got.BaselineWeeks != baselineWeeks {
				t.Errorf("baseline weeks %d, want %d", got.BaselineWeeks, baselineWeeks)
			}
			// the p-value follows from the expected count: P(Y >= 2) of a Poisson
			// (the dispersion is 1: the baseline is no more variable than that)
			l := c.want
			if p := 1 - math.Exp(-l)*(1+l); got.Phi != 1 || math.Abs(got.PValue-p) > 1e-9*p {
				t.Errorf("p-value %.10g with phi %g, want %.10g with phi 1", got.PValue, got.Phi, p)
			}
			t.Logf("2 cases: expected %.4g (%.4g without the floor), upper %g, p %.3g; the baseline averaged %.4g a week over %d weeks",
				got.Expected, r.Expected, got.Upper, got.PValue, got.BaselineMean, got.BaselineWeeks)
		})
	}

	t.Run("dense series unchanged", func(t *testing.T) {
		for _, o := range []FarringtonOptions{nouf, FarringtonOriginal(), FarringtonNoufailyPeriods(12)} {
			on := o
			on.SparseFloor = FarringtonSparseFloor
			for _, s := range append(farrSpecs(), farrLongSpecs()...) {
				// 10 a week or more, not zero-inflated (the original method's trend on
				// zero-inflated-10 predicts a sixth of the baseline mean in 6 weeks
				// and is dropped: see FarringtonSparseFloor)
				if s.base*float64(cmp.Or(s.freq, 52))/52 < 10 || s.pattern != nil || s.zero > 0 || cmp.Or(s.freq, 52) != o.Freq {
					continue
				}
				counts := s.generate(s.length())
				want, err := FarringtonRange(counts, s.evalFrom(), len(counts)-1, o)
				if err != nil {
					t.Fatal(err)
				}
				got, err := FarringtonRange(counts, s.evalFrom(), len(counts)-1, on)
				if err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if got[i].Floored || fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
						t.Errorf("%s week %d: with the floor %+v, without %+v", s.name, s.evalFrom()+i, got[i], want[i])
					}
				}
			}
		}
	})

	// The rule on every week of the reference series: where R's model predicts
	// below the floor, the trend is dropped (the result is R's without trend) and
	// what is still below the floor is raised to it; elsewhere the result is R's.
	t.Run("the rule on the reference series", func(t *testing.T) {
		changed := 0
		for _, o := range []FarringtonOptions{nouf, FarringtonOriginal(), FarringtonNoufailyPeriods(12), FarringtonNoufailyPeriods(13)} {
			on, noTrend := o, o
			on.SparseFloor, noTrend.Trend = FarringtonSparseFloor, false
			for _, s := range append(farrSpecs(), farrLongSpecs()...) {
				if cmp.Or(s.freq, 52) != o.Freq {
					continue
				}
				counts := s.generate(s.length())
				for wk := s.evalFrom(); wk < len(counts); wk++ {
					r, _ := Farrington(counts, wk, o)
					got, _ := Farrington(counts, wk, on)
					if r.Reason == FarringtonReasonNoFit {
						continue
					}
					floor := FarringtonSparseFloor * (r.BaselineMean*float64(r.BaselineWeeks) + 0.5) / float64(r.BaselineWeeks)
					want := r
					if r.Expected < floor*(1-1e-12) {
						changed++
						if r.TrendUsed {
							want, _ = Farrington(counts, wk, noTrend)
						}
						if want.Expected < floor*(1-1e-12) {
							if !got.Floored || math.Abs(got.Expected-floor) > 1e-12*floor {
								t.Errorf("%s week %d (Freq %d): expected %g (floored %v), want the floor %g", s.name, wk, o.Freq, got.Expected, got.Floored, floor)
							}
							continue
						}
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s week %d (Freq %d): with the floor %+v, want %+v", s.name, wk, o.Freq, got, want)
					}
				}
			}
		}
		if changed == 0 {
			t.Error("the floor changed no week of the reference series")
		}
	})

	// A month with one case after four years with one: no alarm, whatever the
	// expected count, as limit54 wants 5 cases in the current month.
	t.Run("one case, nearly empty baseline", func(t *testing.T) {
		o := FarringtonNoufailyPeriods(12)
		o.SparseFloor = FarringtonSparseFloor
		counts := make([]float64, 12*6)
		counts[40] = 1
		counts[len(counts)-1] = 1
		r, err := Farrington(counts, len(counts)-1, o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Alarm || r.Reason != "too few cases in the current period" {
			t.Errorf("got alarm %v (%q), want no alarm: too few cases; %+v", r.Alarm, r.Reason, r)
		}
		// the baseline: months 22 to 64 (0-based), from 4 years and a month back
		// to the 7th month back (the last 6 are left out): 43 months, 1 case;
		// the current month's level is all zeros, so the floor holds
		if want := FarringtonSparseFloor * 1.5 / 43; r.BaselineWeeks != 43 || math.Abs(r.Expected-want) > 1e-12 || !r.Floored {
			t.Errorf("expected %g over %d months (floored %v), want the floor %g over 43", r.Expected, r.BaselineWeeks, r.Floored, want)
		}
		// 5 cases on the same expected count (the current month is not in the
		// baseline): limit54 is met and the alarm stands
		counts[len(counts)-1] = 5
		r5, _ := Farrington(counts, len(counts)-1, o)
		if !r5.Alarm || r5.Reason != "" || r5.Expected != r.Expected {
			t.Errorf("5 cases: %+v, want an alarm on the expected %g", r5, r.Expected)
		}
	})
}

// TestFarringtonNoufailyPeriods checks the rescaled Noufaily parameters: the same
// lengths in time as 52 weeks have them, R's first evaluable period, and that
// the options are valid and evaluate.
func TestFarringtonNoufailyPeriods(t *testing.T) {
	for _, c := range []struct {
		freq, w, past, noPeriods, limitPeriods, first int
	}{
		{52, 3, 26, 10, 4, 211}, // FarringtonNoufaily itself
		{12, 1, 6, 10, 1, 49},   // months: a month either side, half a year left out
		{13, 1, 7, 10, 1, 53},   // four-weekly periods
		{26, 2, 13, 10, 2, 106}, // fortnights
		{4, 0, 2, 4, 1, 16},     // quarters: as many levels as quarters
	} {
		t.Run(strconv.Itoa(c.freq), func(t *testing.T) {
			o := FarringtonNoufailyPeriods(c.freq)
			want := FarringtonNoufaily()
			want.Freq, want.W, want.PastWeeksNotIncluded, want.NoPeriods, want.Limit54Weeks = c.freq, c.w, c.past, c.noPeriods, c.limitPeriods
			if o != want {
				t.Errorf("got %+v, want %+v", o, want)
			}
			// R's default range starts at freq*b + w + 1, 1-based
			if got := FarringtonFirstWeek(o); got != c.first {
				t.Errorf("first period %d, want %d", got, c.first)
			}
			counts := make([]float64, c.first+3)
			for i := range counts {
				counts[i] = float64(20 + i%5)
			}
			if _, err := Farrington(counts, c.first-1, o); !errors.Is(err, ErrFarringtonShortHistory) {
				t.Errorf("period %d: %v, want short history", c.first-1, err)
			}
			r, err := Farrington(counts, c.first, o)
			if err != nil || r.Reason != "" || !(r.Expected > 19 && r.Expected < 25) {
				t.Errorf("period %d: %+v, %v", c.first, r, err)
			}
		})
	}
	if _, err := Farrington(make([]float64, 100), 99, FarringtonNoufailyPeriods(0)); err == nil {
		t.Error("Freq 0 accepted")
	}
}
