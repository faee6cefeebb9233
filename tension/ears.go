package tension

import (
	"math"

	"github.com/tensionmap/tensionmap/geo"
)

// EARSMethod is one of the CDC's Early Aberration Reporting System detectors C1,
// C2 and C3 (Hutwagner et al. 2003; Fricker, Hegler and Dunfee 2008), as
// implemented by R's surveillance::earsC.
type EARSMethod int

// The three EARS methods.
const (
	// EARSC1 ("mild") compares a day with the mean and standard deviation of the
	// Baseline days just before it.
	EARSC1 EARSMethod = iota + 1
	// EARSC2 ("medium") is C1 with a two-day gap between the baseline and the day
	// tested: the baseline is days t-Baseline-2 to t-3.
	EARSC2
	// EARSC3 ("high") adds up the C2 excesses of the day and the two days before.
	// See EARS for how surveillance::earsC turns that into an upper bound.
	EARSC3
)

// String returns "C1", "C2" or "C3".
func (m EARSMethod) String() string {
	switch m {
	case EARSC1:
		return "C1"
	case EARSC2:
		return "C2"
	case EARSC3:
		return "C3"
	}
	return "EARSMethod(?)"
}

// DefaultEARSBaseline is the number of baseline days EARS uses when
// EARSOptions.Baseline is 0, as in surveillance::earsC.
const DefaultEARSBaseline = 7

// DefaultEARSMinSigma is the sigma floor DefaultEARSOptions sets, in counts per day.
// Without a floor a run of zero days has a standard deviation of 0 and a single
// incident raises an alarm; Burkom suggests 0.5 or 1 for sparse series.
const DefaultEARSMinSigma = 0.5

// EARSOptions configures EARS. Its zero value (apart from Method, which must be
// set) gives surveillance::earsC's defaults, including MinSigma 0; DefaultEARSOptions
// gives the engine's defaults.
type EARSOptions struct {
	// Method is EARSC1, EARSC2 or EARSC3.
	Method EARSMethod
	// Baseline is the number of days the mean and standard deviation are taken
	// over: 0 means DefaultEARSBaseline; at least 3 otherwise.
	Baseline int
	// MinSigma is a floor on the baseline standard deviation, in counts per day:
	// sigma = max(sd, MinSigma). 0 (R's default) means no floor, and then a flat
	// baseline gives an infinite or NaN statistic.
	MinSigma float64
	// Alpha sets the threshold zAlpha = Φ⁻¹(1-Alpha), the upper (1-Alpha) quantile
	// of the standard normal distribution. 0 means R's defaults: 0.001 for C1 and
	// C2, 0.025 for C3. Otherwise 0 < Alpha < 1.
	Alpha float64
}

// DefaultEARSOptions returns the engine's options for a method: a 7-day baseline,
// R's default alpha for the method, and a sigma floor of DefaultEARSMinSigma.
func DefaultEARSOptions(m EARSMethod) EARSOptions {
	return EARSOptions{Method: m, Baseline: DefaultEARSBaseline, MinSigma: DefaultEARSMinSigma}
}

// earsResolved is an EARSOptions with its defaults filled in and checked.
type earsResolved struct {
	method   EARSMethod
	baseline int
	minSigma float64
	alpha    float64
	zAlpha   float64
	first    int // first day (0-based) the method can test
}

func (o EARSOptions) earsResolve() (earsResolved, error) {
	r := earsResolved{method: o.Method, baseline: o.Baseline, minSigma: o.MinSigma, alpha: o.Alpha}
	if r.baseline == 0 {
		r.baseline = DefaultEARSBaseline
	}
	if r.baseline < 3 {
		return r, geo.Errorf(geo.EINVALID, "EARS baseline of %d days: the minimum is 3", o.Baseline)
	}
	if math.IsNaN(r.minSigma) || math.IsInf(r.minSigma, 0) || r.minSigma < 0 {
		return r, geo.Errorf(geo.EINVALID, "EARS minimum sigma %v: it must be 0 or more", o.MinSigma)
	}
	switch o.Method {
	case EARSC1:
		r.first = r.baseline
	case EARSC2:
		r.first = r.baseline + 2
	case EARSC3:
		r.first = r.baseline + 4
	default:
		return r, geo.Errorf(geo.EINVALID, "EARS method %d: want C1, C2 or C3", int(o.Method))
	}
	if r.alpha == 0 {
		r.alpha = 0.001
		if o.Method == EARSC3 {
			r.alpha = 0.025
		}
	}
	if !(r.alpha > 0 && r.alpha < 1) {
		return r, geo.Errorf(geo.EINVALID, "EARS alpha %v: it must be between 0 and 1", o.Alpha)
	}
	r.zAlpha = earsUpperQuantile(r.alpha)
	return r, nil
}

// FirstDay returns the index of the first day EARS can test with these options:
// the baseline must lie wholly inside the series. It is Baseline for C1,
// Baseline+2 for C2 and Baseline+4 for C3 (R's default range starts there). The
// error reports invalid options.
func (o EARSOptions) FirstDay() (int, error) {
	r, err := o.earsResolve()
	return r.first, err
}

// EARSResult is EARS's verdict on one day.
type EARSResult struct {
	// Day is the day's index in the series.
	Day int
	// Observed is the day's count.
	Observed float64
	// Expected is the mean of the baseline days (for C3, of the day's C2 baseline).
	Expected float64
	// Sigma is max(sd, MinSigma), sd being the sample standard deviation (n-1
	// denominator) of the baseline days, in counts per day.
	Sigma float64
	// UpperBound is the count above which the day raises an alarm, as
	// surveillance::earsC computes it (see EARS).
	UpperBound float64
	// Statistic is C1(t) or C2(t) = (Observed - Expected) / Sigma, or for C3 the
	// documented C3(t) = Σ_{i=t-2..t} max(0, C2(i) - 1).
	Statistic float64
	// Alarm is Observed > UpperBound. It is false when UpperBound is NaN (R: NA),
	// which happens for C3 with MinSigma 0 and a flat baseline.
	Alarm bool
}

// EARS runs an EARS detector over the days from (inclusive) to to (exclusive) of a
// daily series of counts, exactly as R's surveillance::earsC (version 1.20) does with
// control = list(method, baseline, minSigma, alpha, range = (from+1):to).
//
// For C1 the baseline of day t is days t-B..t-1 (B = Baseline); for C2 and C3 it is
// days t-B-2..t-3. With mean m(t) and sigma s(t) = max(sd, MinSigma) of that baseline:
//
//	C1, C2: U(t) = m(t) + zAlpha·s(t), statistic (Y(t) - m(t)) / s(t).
//	C3:     U(t) = max(0, Y(t) + s(t)·(zAlpha - [max(0, C2(t-2)-1) + max(0, C2(t-1)-1)])),
//
// where C2 is the C2 statistic and zAlpha = Φ⁻¹(1-Alpha). The C3 bound is what
// earsC's code computes; its documentation writes m(t) for the leading Y(t). With the
// code's form a C3 alarm (Y(t) > U(t)) for a day with s(t) > 0 and Y(t) ≥ 0 means the
// two previous days' C2 excesses add up to more than zAlpha and Y(t) > 0: the day's
// own count only has to be positive. Statistic reports the documented C3 sum, which
// also counts day t's own excess; it is not what the alarm compares.
//
// An alarm is Y(t) > U(t), strictly. The error reports invalid options, a range that
// is empty, reaches before FirstDay or past the series, or a count that is NaN or
// infinite.
func EARS(counts []float64, from, to int, o EARSOptions) ([]EARSResult, error) {
	r, err := o.earsResolve()
	if err != nil {
		return nil, err
	}
	if from < r.first {
		return nil, geo.Errorf(geo.EINVALID, "EARS %v with a %d-day baseline can test days from index %d on, not %d",
			r.method, r.baseline, r.first, from)
	}
	if to > len(counts) || from >= to {
		return nil, geo.Errorf(geo.EINVALID, "EARS range [%d, %d) is empty or beyond the %d days of the series",
			from, to, len(counts))
	}
	for i, c := range counts[:to] {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return nil, geo.Errorf(geo.EINVALID, "EARS count %v on day %d: counts must be finite", c, i)
		}
	}
	out := make([]EARSResult, 0, to-from)
	switch r.method {
	case EARSC1, EARSC2:
		lag := 1
		if r.method == EARSC2 {
			lag = 3
		}
		for t := from; t < to; t++ {
			m, s := earsBaseline(counts, t, lag, r)
			u := m + r.zAlpha*s
			y := counts[t]
			out = append(out, EARSResult{Day: t, Observed: y, Expected: m, Sigma: s, UpperBound: u,
				Statistic: (y - m) / s, Alarm: y > u})
		}
	case EARSC3:
		// C2 statistics of days from-2 .. to-1.
		c2 := make([]float64, to-from+2)
		for t := from - 2; t < to; t++ {
			m, s := earsBaseline(counts, t, 3, r)
			c2[t-from+2] = (counts[t] - m) / s
		}
		for t := from; t < to; t++ {
			m, s := earsBaseline(counts, t, 3, r)
			k := t - from + 2
			lag2 := math.Max(0, c2[k-2]-1)
			lag1 := math.Max(0, c2[k-1]-1)
			y := counts[t]
			u := math.Max(0, y+s*(r.zAlpha-(lag2+lag1)))
			stat := math.Max(0, c2[k]-1) + lag1 + lag2
			out = append(out, EARSResult{Day: t, Observed: y, Expected: m, Sigma: s, UpperBound: u,
				Statistic: stat, Alarm: y > u})
		}
	}
	return out, nil
}

// earsBaseline returns the mean and sigma = max(sd, minSigma) of the baseline days
// t-lag-B+1 .. t-lag. The mean is refined with a second pass as R's mean() does.
func earsBaseline(counts []float64, t, lag int, r earsResolved) (mean, sigma float64) {
	base := counts[t-lag-r.baseline+1 : t-lag+1]
	n := float64(len(base))
	var sum float64
	for _, c := range base {
		sum += c
	}
	mean = sum / n
	var corr float64
	for _, c := range base {
		corr += c - mean
	}
	mean += corr / n
	var ss float64
	for _, c := range base {
		d := c - mean
		ss += d * d
	}
	sd := math.Sqrt(ss / (n - 1))
	return mean, math.Max(sd, r.minSigma)
}

// earsUpperQuantile returns Φ⁻¹(1-alpha), the upper alpha quantile of the standard
// normal distribution, for 0 < alpha < 1. math.Erfinv uses Wichura's AS 241, as R's qnorm does.
func earsUpperQuantile(alpha float64) float64 {
	return math.Sqrt2 * math.Erfinv(1-2*alpha)
}
