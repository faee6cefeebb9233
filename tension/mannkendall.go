package tension

import (
	"math"
	"slices"

	"github.com/tensionmap/tensionmap/geo"
)

// MannKendallResult is the outcome of a Mann-Kendall trend test on a series.
type MannKendallResult struct {
	// N is the length of the series.
	N int
	// S is Kendall's score: over every pair of steps i < j, the number of pairs with
	// y_j > y_i minus the number with y_j < y_i. Positive S is an upward trend.
	S float64
	// VarS is the variance of S under no trend, corrected for ties in the values
	// (Kendall 1975): (n(n-1)(2n+5) - Σ t(t-1)(2t+5)) / 18, t running over the sizes
	// of the groups of equal values.
	VarS float64
	// Z is the normal score S / sqrt(VarS), or with the continuity correction
	// (S - sign(S)) / sqrt(VarS). NaN when every value is the same (VarS = 0).
	Z float64
	// P is the two-sided p-value 2·(1 - Φ(|Z|)); NaN with Z.
	P float64
	// TauB is Kendall's tau-b between the time index and the values:
	// S / sqrt(n(n-1)/2 · (n(n-1)/2 - Σ t(t-1)/2)). NaN when every value is the same.
	TauB float64
}

// MannKendall tests a series of values at equally spaced time steps (oldest first)
// for a monotonic trend (Mann 1945; Kendall 1975) with the normal approximation and
// the tie-corrected variance. It equals R's
//
//	cor.test(seq_along(y), y, method = "kendall", exact = FALSE, continuity = continuity)
//
// whose default is continuity = FALSE (no continuity correction); the classical
// hydrological form of the test (Hirsch, Slack and Smith 1982) uses the correction,
// continuity = true. TauB is R's estimate, Z its statistic and P its p-value. When
// every value is the same R reports NA for all three; Z, P and TauB are NaN then.
// The error reports fewer than 3 values (R's variance is 0/0 for 2) or a NaN or
// infinite value. It takes time
// proportional to the square of the series' length.
func MannKendall(y []float64, continuity bool) (MannKendallResult, error) {
	n := len(y)
	r := MannKendallResult{N: n}
	if n < 3 {
		return r, geo.Errorf(geo.EINVALID, "Mann-Kendall: %d values: at least 3 are needed", n)
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return r, geo.Errorf(geo.EINVALID, "Mann-Kendall: value %v at step %d: values must be finite", v, i)
		}
	}
	var s int
	for i := 0; i < n-1; i++ {
		for j := i + 1; j < n; j++ {
			switch {
			case y[j] > y[i]:
				s++
			case y[j] < y[i]:
				s--
			}
		}
	}
	r.S = float64(s)
	// Ties: groups of equal values.
	sorted := slices.Clone(y)
	slices.Sort(sorted)
	var tiePairs, tieVar float64 // Σ t(t-1)/2 and Σ t(t-1)(2t+5)
	for i := 0; i < n; {
		j := i + 1
		for j < n && sorted[j] == sorted[i] {
			j++
		}
		if t := float64(j - i); t > 1 {
			tiePairs += t * (t - 1) / 2
			tieVar += t * (t - 1) * (2*t + 5)
		}
		i = j
	}
	fn := float64(n)
	r.VarS = (fn*(fn-1)*(2*fn+5) - tieVar) / 18
	pairs := fn * (fn - 1) / 2
	if pairs == tiePairs { // every value the same
		r.Z, r.P, r.TauB = math.NaN(), math.NaN(), math.NaN()
		return r, nil
	}
	r.TauB = r.S / math.Sqrt(pairs*(pairs-tiePairs))
	num := r.S
	if continuity && s != 0 {
		num = r.S - math.Copysign(1, r.S)
	}
	r.Z = num / math.Sqrt(r.VarS)
	r.P = math.Erfc(math.Abs(r.Z) / math.Sqrt2)
	return r, nil
}
