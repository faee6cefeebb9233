package tension

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"gonum.org/v1/gonum/mathext"
)

// Trigger-event uplift: did counts rise after a trigger event (a murder, an attack, a
// referendum, a contested march)? The counts in short windows starting on the event
// day are compared with two baselines, the same days a year earlier and the weeks just
// before the event, by the exact conditional test of two Poisson rates: given
// x1 + x0 = n, x1 is Binomial(n, t1/(t1 + t0)) when the rates are equal. This is R's
// poisson.test(c(x1, x0), T = c(t1, t0), alternative = "greater"), whose p-value and
// confidence limits (Clopper-Pearson limits for the binomial proportion, turned into
// limits for the rate ratio) are reproduced here.

// UpliftOptions are the windows and baselines of Uplift. A zero field takes its
// default (see DefaultUpliftOptions).
type UpliftOptions struct {
	// Windows are the lengths in days of the windows after the event. A window of w
	// days holds the event day and the w−1 days after it (days 0..w−1 counted from
	// the event), so the 2-day window is the event day and the next. Default {2, 14}.
	Windows []int
	// YearLag is how many days back "the same days a year earlier" are. Default 364,
	// 52 weeks, so the earlier window has the same weekdays (hate crime has a weekly
	// cycle); 365 gives the same calendar dates outside leap years.
	YearLag int
	// PriorDays is the length of the baseline just before the event, days −PriorDays..−1.
	// Default 28 (4 weeks).
	PriorDays int
	// ConfLevel is the confidence level of the intervals. Default 0.95.
	ConfLevel float64
}

// DefaultUpliftOptions returns windows of 2 and 14 days, a year lag of 364 days, 28
// days before the event and 95% confidence intervals.
func DefaultUpliftOptions() UpliftOptions {
	return UpliftOptions{Windows: []int{2, 14}, YearLag: 364, PriorDays: 28, ConfLevel: 0.95}
}

// UpliftResult is the outcome of Uplift for one series.
type UpliftResult struct {
	Name     string // the series' name (UpliftAll), "" from Uplift
	EventDay int
	Windows  []UpliftWindow
}

// UpliftWindow is one window after the event with its two comparisons.
type UpliftWindow struct {
	// Days is the window's configured length; FirstDay (the event day) and LastDay are
	// the days it covers, fewer than Days when the series ends sooner.
	Days              int
	FirstDay, LastDay int
	// Observed is the count over the covered days.
	Observed int
	// LastYear compares with the same covered days YearLag days earlier.
	LastYear UpliftComparison
	// Prior compares with the PriorDays days before the event.
	Prior UpliftComparison
}

// UpliftComparison is an exact one-sided test that the window's rate is greater than a
// baseline's.
type UpliftComparison struct {
	// Available is false when the baseline's days start before the series does; every
	// other field is then zero.
	Available bool
	// FirstDay..LastDay are the baseline's days; Baseline is its count.
	FirstDay, LastDay int
	Baseline          int
	// Expected is the baseline scaled to the window: Baseline·window days/baseline days.
	Expected float64
	// Ratio is the rate ratio (Observed/window days)/(Baseline/baseline days): +Inf
	// when the baseline is 0 and the window is not, NaN when both are 0.
	Ratio float64
	// P is the one-sided exact p-value for a ratio above 1 (1 when Observed is 0).
	P float64
	// Lower is the one-sided lower confidence limit for the ratio at ConfLevel, R's
	// conf.int[1] with alternative = "greater" (its upper limit is +Inf).
	Lower float64
	// CILow and CIHigh are the two-sided exact confidence interval for the ratio at
	// ConfLevel, R's conf.int with alternative = "two.sided"; CIHigh is +Inf when the
	// baseline is 0.
	CILow, CIHigh float64
}

// UpliftSeries is a named daily series: citywide, or one strand.
type UpliftSeries struct {
	Name  string
	Daily []float64
}

// Uplift compares the counts after a trigger event with the same days a year earlier
// and with the weeks before. daily[i] is the count on day i (any fixed calendar; the
// series must start early enough for the baselines wanted, which are otherwise marked
// unavailable); eventDay indexes daily. Counts must be whole numbers (within 1e-7, as
// R's poisson.test requires) and not negative. The tests are separate: with several
// windows, baselines and strands, a small p-value somewhere is more likely than its
// face value suggests. It returns an EINVALID *geo.Error for an eventDay outside the
// series, a count that is negative, fractional or not finite, or a negative or
// out-of-range option.
func Uplift(daily []float64, eventDay int, o UpliftOptions) (UpliftResult, error) {
	o, err := upliftDefaults(o)
	if err != nil {
		return UpliftResult{}, err
	}
	if eventDay < 0 || eventDay >= len(daily) {
		return UpliftResult{}, geo.Errorf(geo.EINVALID, "uplift: event day %d is outside the series of %d days", eventDay, len(daily))
	}
	counts := make([]int, len(daily))
	for i, v := range daily {
		r := math.Round(v)
		if !(v >= 0) || math.IsInf(v, 1) || math.Abs(v-r) > 1e-7 || r > math.MaxInt32 {
			return UpliftResult{}, geo.Errorf(geo.EINVALID, "uplift: the count on day %d, %v, is not a whole number of incidents", i, v)
		}
		counts[i] = int(r)
	}
	sum := func(from, to int) int {
		s := 0
		for _, c := range counts[from : to+1] {
			s += c
		}
		return s
	}
	res := UpliftResult{EventDay: eventDay}
	for _, w := range o.Windows {
		last := min(eventDay+w-1, len(daily)-1)
		t1 := last - eventDay + 1
		win := UpliftWindow{Days: w, FirstDay: eventDay, LastDay: last, Observed: sum(eventDay, last)}
		if from := eventDay - o.YearLag; from >= 0 {
			win.LastYear = upliftCompare(win.Observed, t1, from, from+t1-1, sum(from, from+t1-1), o.ConfLevel)
		}
		if from := eventDay - o.PriorDays; from >= 0 {
			win.Prior = upliftCompare(win.Observed, t1, from, eventDay-1, sum(from, eventDay-1), o.ConfLevel)
		}
		res.Windows = append(res.Windows, win)
	}
	return res, nil
}

// UpliftAll runs Uplift on each series (citywide and per strand) with the same event and
// options, returning the results in the order of series, each with its name.
func UpliftAll(series []UpliftSeries, eventDay int, o UpliftOptions) ([]UpliftResult, error) {
	out := make([]UpliftResult, 0, len(series))
	for _, s := range series {
		r, err := Uplift(s.Daily, eventDay, o)
		if err != nil {
			return nil, geo.Errorf(geo.EINVALID, "%s: %s", s.Name, geo.ErrorMessage(err))
		}
		r.Name = s.Name
		out = append(out, r)
	}
	return out, nil
}

func upliftDefaults(o UpliftOptions) (UpliftOptions, error) {
	d := DefaultUpliftOptions()
	if o.Windows == nil {
		o.Windows = d.Windows
	}
	o.Windows = slices.Clone(o.Windows)
	if o.YearLag == 0 {
		o.YearLag = d.YearLag
	}
	if o.PriorDays == 0 {
		o.PriorDays = d.PriorDays
	}
	if o.ConfLevel == 0 {
		o.ConfLevel = d.ConfLevel
	}
	for _, w := range o.Windows {
		if w < 1 {
			return o, geo.Errorf(geo.EINVALID, "uplift: window of %d days", w)
		}
	}
	if o.YearLag < 0 || o.PriorDays < 0 || !(o.ConfLevel > 0 && o.ConfLevel < 1) {
		return o, geo.Errorf(geo.EINVALID, "uplift: YearLag and PriorDays must not be negative and ConfLevel must be between 0 and 1")
	}
	return o, nil
}

// upliftCompare tests x1 cases over t1 days against x0 cases on baseline days from..to.
func upliftCompare(x1, t1, from, to, x0 int, conf float64) UpliftComparison {
	t0 := to - from + 1
	c := UpliftComparison{Available: true, FirstDay: from, LastDay: to, Baseline: x0}
	c.Expected = float64(x0) * float64(t1) / float64(t0)
	c.Ratio, c.P, c.Lower, c.CILow, c.CIHigh = upliftPoissonTest(x1, float64(t1), x0, float64(t0), conf)
	return c
}

// upliftPoissonTest is R's poisson.test(c(x1, x0), T = c(t1, t0)) for r = 1: the rate
// ratio, the one-sided ("greater") p-value and lower limit, and the two-sided interval.
// Given n = x1 + x0, x1 ~ Binomial(n, π) with π = t1/(t1 + t0) under equal rates, so
//
//	p = P(X ≥ x1)
//
// and the Clopper-Pearson limits for π, qbeta(α, x1, n − x1 + 1) and
// qbeta(1 − α, x1 + 1, n − x1), become limits for the ratio by π ↦ π/(1 − π)·t0/t1,
// evaluated in R's order.
func upliftPoissonTest(x1 int, t1 float64, x0 int, t0 float64, conf float64) (ratio, p, lower, lo, hi float64) {
	n := x1 + x0
	pi := t1 / (t1 + t0)
	ratio = (float64(x1) / t1) / (float64(x0) / t0)
	p = upliftBinomUpper(x1, n, pi)
	qL := func(alpha float64) float64 { // p.L in R's binom.test
		if x1 == 0 {
			return 0
		}
		return upliftQBeta(alpha, x1, n-x1+1)
	}
	qU := func(alpha float64) float64 { // p.U
		if x1 == n {
			return 1
		}
		return upliftQBeta(1-alpha, x1+1, n-x1)
	}
	toRatio := func(pp float64) float64 { return pp / (1 - pp) * t0 / t1 }
	lower = toRatio(qL(1 - conf))
	alpha := (1 - conf) / 2
	lo, hi = toRatio(qL(alpha)), toRatio(qU(alpha))
	return ratio, p, lower, lo, hi
}

// upliftBinomUpper is P(X ≥ x) for X ~ Binomial(n, p), summing probabilities away from
// the mode: the upper tail itself when x is above the mean (full relative accuracy in
// the far tail), else one minus the lower tail (absolute error near 1e-16). gonum's
// incomplete beta function loses about 1e-12 when n is in the thousands; this keeps the
// p-value within a few 1e-16 of R's.
func upliftBinomUpper(x, n int, p float64) float64 {
	if x <= 0 {
		return 1
	}
	if x > n {
		return 0
	}
	q := 1 - p // as R's pbeta does
	sum := 0.0
	if float64(x) > float64(n)*p {
		for k := x; k <= n; k++ {
			d := upliftDBinom(k, n, p, q)
			sum += d
			if d <= sum*1e-17 {
				break
			}
		}
		return sum
	}
	for k := x - 1; k >= 0; k-- {
		d := upliftDBinom(k, n, p, q)
		sum += d
		if d <= sum*1e-17 {
			break
		}
	}
	return math.Max(0, 1-sum)
}

// upliftQBeta is the quantile at probability y of the Beta(a, b) distribution for whole
// a, b ≥ 1, where I_x(a, b) = P(Binomial(a + b − 1, x) ≥ a): gonum's inverse of the
// incomplete beta function, polished by Newton's method on the accurate binomial tail
// (the beta density, (a + b − 1)·P(Binomial(a + b − 2, x) = a − 1), is its derivative).
func upliftQBeta(y float64, a, b int) float64 {
	x := mathext.InvRegIncBeta(float64(a), float64(b), y)
	m := a + b - 1
	for range 20 {
		if !(x > 0 && x < 1) {
			break
		}
		f := upliftBinomUpper(a, m, x) - y
		dens := float64(m) * upliftDBinom(a-1, m-1, x, 1-x)
		if !(dens > 0) || math.IsInf(dens, 0) {
			break
		}
		next := x - f/dens
		if !(next > 0 && next < 1) {
			break
		}
		if math.Abs(next-x) <= 1e-17*x {
			x = next
			break
		}
		x = next
	}
	return x
}

// upliftDBinom is P(X = x) for X ~ Binomial(n, p), q = 1 − p, by C. Loader's
// saddle-point expansion ("Fast and accurate computation of binomial probabilities",
// 2000), as R's dbinom_raw: relative accuracy near 1e-15 where lgamma-based formulas
// lose digits to cancellation.
func upliftDBinom(x, n int, p, q float64) float64 {
	switch {
	case p == 0:
		if x == 0 {
			return 1
		}
		return 0
	case q == 0:
		if x == n {
			return 1
		}
		return 0
	case x < 0 || x > n:
		return 0
	}
	fn := float64(n)
	if x == 0 {
		if n == 0 {
			return 1
		}
		if p < 0.1 {
			return math.Exp(-upliftBD0(fn, fn*q) - fn*p)
		}
		return math.Exp(fn * math.Log(q))
	}
	if x == n {
		if q < 0.1 {
			return math.Exp(-upliftBD0(fn, fn*p) - fn*q)
		}
		return math.Exp(fn * math.Log(p))
	}
	fx := float64(x)
	lc := upliftStirlerr(n) - upliftStirlerr(x) - upliftStirlerr(n-x) - upliftBD0(fx, fn*p) - upliftBD0(fn-fx, fn*q)
	lf := math.Log(2*math.Pi) + math.Log(fx) + math.Log1p(-fx/fn)
	return math.Exp(lc - 0.5*lf)
}

// upliftStirlerrTable holds ln(n!) − (n + ½)ln n + n − ln √(2π) for n = 1..15.
var upliftStirlerrTable = [16]float64{
	0, // unused
	0.08106146679532725821967026,
	0.04134069595540929409382208,
	0.02767792568499833914878929,
	0.02079067210376509311152277,
	0.01664469118982119216319487,
	0.01387612882307074799874573,
	0.01189670994589177009505572,
	0.01041126526197209649747857,
	0.009255462182712732917728637,
	0.008330563433362871256469319,
	0.007573675487951840794972024,
	0.006942840107209529865664153,
	0.006408994188004207068439631,
	0.005951370112758847735624416,
	0.00555473355196280137103869,
}

// upliftStirlerr is the error of Stirling's formula for ln(n!), n ≥ 1: the table up to
// 15, then the asymptotic series 1/(12n) − 1/(360n³) + 1/(1260n⁵) − ... (as R).
func upliftStirlerr(n int) float64 {
	if n <= 15 {
		return upliftStirlerrTable[n]
	}
	const (
		s0 = 1.0 / 12
		s1 = 1.0 / 360
		s2 = 1.0 / 1260
		s3 = 1.0 / 1680
		s4 = 1.0 / 1188
	)
	x := float64(n)
	nn := x * x
	switch {
	case n > 500:
		return (s0 - s1/nn) / x
	case n > 80:
		return (s0 - (s1-s2/nn)/nn) / x
	case n > 35:
		return (s0 - (s1-(s2-s3/nn)/nn)/nn) / x
	}
	return (s0 - (s1-(s2-(s3-s4/nn)/nn)/nn)/nn) / x
}

// upliftBD0 is x·ln(x/np) + np − x, by a series where the terms nearly cancel (Loader).
func upliftBD0(x, np float64) float64 {
	if math.Abs(x-np) < 0.1*(x+np) {
		v := (x - np) / (x + np)
		s := (x - np) * v
		if math.Abs(s) < 0x1p-1022 { // DBL_MIN
			return s
		}
		ej := 2 * x * v
		v *= v
		for j := 1; j < 1000; j++ {
			ej *= v
			s1 := s + ej/float64(2*j+1)
			if s1 == s {
				return s1
			}
			s = s1
		}
	}
	return x*math.Log(x/np) + np - x
}

// upliftDetail says what an uplift finding compared, in dates: "After Referendum
// result (national), the 4 days from 24 Jun 2016 (the event day) to 27 Jun 2016,
// against the four weeks before, 27 May – 23 Jun 2016". The days are those the window covers,
// fewer than its configured length while the event is recent; start is the date of
// the series' day 0.
func upliftDetail(e TriggerEvent, w UpliftWindow, c UpliftComparison, start time.Time) string {
	day := func(i int) time.Time { return start.AddDate(0, 0, i) }
	event := day(w.FirstDay).Format("2 Jan 2006")
	var window string
	if n := w.LastDay - w.FirstDay + 1; n <= 1 {
		window = "the event day, " + event
	} else {
		window = fmt.Sprintf("the %d days from %s (the event day) to %s", n, event, day(w.LastDay).Format("2 Jan 2006"))
	}
	var baseline string
	if c.LastDay == w.FirstDay-1 { // the days just before the event
		baseline = "the " + PeriodWords(c.LastDay-c.FirstDay+1) + " before"
	} else {
		baseline = "the same days a year earlier"
	}
	baseline += ", " + DayRange(day(c.FirstDay), day(c.LastDay))
	return fmt.Sprintf("After %s (%s), %s%s%s", e.Description, e.Scope, window, upliftAgainst, baseline)
}

// upliftComparisonJSON is UpliftComparison as JSON, where an infinite or undefined
// ratio or limit (a baseline of 0) is null.
type upliftComparisonJSON struct {
	Available bool     `json:"available"`
	FirstDay  int      `json:"first_day"`
	LastDay   int      `json:"last_day"`
	Baseline  int      `json:"baseline"`
	Expected  *float64 `json:"expected"`
	Ratio     *float64 `json:"ratio"`
	P         *float64 `json:"p"`
	Lower     *float64 `json:"lower"`
	CILow     *float64 `json:"ci_low"`
	CIHigh    *float64 `json:"ci_high"`
}

func finiteOrNil(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func orValue(p *float64, v float64) float64 {
	if p == nil {
		return v
	}
	return *p
}

// MarshalJSON writes the comparison with null for a ratio or limit that is
// infinite or undefined, which JSON cannot hold.
func (c UpliftComparison) MarshalJSON() ([]byte, error) {
	return json.Marshal(upliftComparisonJSON{Available: c.Available, FirstDay: c.FirstDay, LastDay: c.LastDay, Baseline: c.Baseline,
		Expected: finiteOrNil(c.Expected), Ratio: finiteOrNil(c.Ratio), P: finiteOrNil(c.P), Lower: finiteOrNil(c.Lower),
		CILow: finiteOrNil(c.CILow), CIHigh: finiteOrNil(c.CIHigh)})
}

// UnmarshalJSON reads what MarshalJSON wrote; a null ratio or upper limit reads as
// +Inf when the window has counts over a baseline of 0, as NaN otherwise.
func (c *UpliftComparison) UnmarshalJSON(b []byte) error {
	var j upliftComparisonJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	nan := math.NaN()
	*c = UpliftComparison{Available: j.Available, FirstDay: j.FirstDay, LastDay: j.LastDay, Baseline: j.Baseline,
		Expected: orValue(j.Expected, nan), Ratio: orValue(j.Ratio, nan), P: orValue(j.P, nan), Lower: orValue(j.Lower, nan),
		CILow: orValue(j.CILow, nan), CIHigh: orValue(j.CIHigh, math.Inf(1))}
	if j.Ratio == nil && j.Baseline == 0 && j.Lower != nil {
		c.Ratio = math.Inf(1)
	}
	return nil
}
