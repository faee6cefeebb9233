package chart

import (
	"math"
	"strconv"
	"strings"
)

// maxIntervals is the most intervals an axis is divided into.
const maxIntervals = 6

// Ticks returns the ticks of a value axis that starts at zero and reaches max:
// 0, s, 2s ... up to the first multiple of s at or above max, where the step s
// is 1, 2, 2.5 or 5 times a power of ten, the smallest that makes at most six
// intervals. integer keeps the step a whole number (counts). A max of zero or
// less, or NaN, gives 0 and 1.
func Ticks(max float64, integer bool) []float64 {
	if !(max > 0) || math.IsInf(max, 0) {
		return []float64{0, 1}
	}
	step := niceStep(max, integer)
	n := int(math.Ceil(max/step - 1e-9))
	if n < 1 {
		n = 1
	}
	out := make([]float64, n+1)
	for i := range out {
		out[i] = roundTo(float64(i)*step, decimals(step))
	}
	return out
}

// niceStep is the step of Ticks.
func niceStep(max float64, integer bool) float64 {
	e := math.Floor(math.Log10(max / maxIntervals))
	for ; ; e++ {
		p := math.Pow(10, e)
		for _, m := range [...]float64{1, 2, 2.5, 5} {
			step := m * p
			if integer && (step < 1 || step != math.Trunc(step)) {
				continue
			}
			if math.Ceil(max/step-1e-9) <= maxIntervals {
				return step
			}
		}
	}
}

// decimals is how many decimal places write step exactly (at most 6).
func decimals(step float64) int {
	d := 0
	for ; d < 6; d++ {
		s := step * math.Pow(10, float64(d))
		if math.Abs(s-math.Round(s)) < 1e-9*math.Max(1, s) {
			break
		}
	}
	return d
}

func roundTo(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// formatNumber writes v with d decimal places and commas between thousands, as
// the pages write numbers: 12,345 and 2.5.
func formatNumber(v float64, d int) string {
	s := strconv.FormatFloat(v, 'f', d, 64)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// formatValue writes a value of a chart: a whole number as it is, a fraction
// with one decimal from 10 up and two below (as the map's legend).
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "withheld"
	case v == math.Trunc(v):
		return formatNumber(v, 0)
	case math.Abs(v) >= 10:
		return formatNumber(v, 1)
	default:
		return formatNumber(v, 2)
	}
}

// tickLabels writes the ticks with the decimals their step needs.
func tickLabels(ticks []float64) []string {
	d := 0
	if len(ticks) > 1 {
		d = decimals(ticks[1] - ticks[0])
	}
	out := make([]string, len(ticks))
	for i, t := range ticks {
		out[i] = formatNumber(t, d)
	}
	return out
}

// allWhole reports whether every value that is not NaN is a whole number.
func allWhole(series ...[]float64) bool {
	for _, s := range series {
		for _, v := range s {
			if !math.IsNaN(v) && v != math.Trunc(v) {
				return false
			}
		}
	}
	return true
}

// maxOf is the largest value of the series that is not NaN, 0 when none is.
func maxOf(series ...[]float64) float64 {
	m := 0.0
	for _, s := range series {
		for _, v := range s {
			if v > m && !math.IsInf(v, 0) {
				m = v
			}
		}
	}
	return m
}
