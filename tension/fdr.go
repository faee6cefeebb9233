package tension

import (
	"cmp"
	"math"
	"slices"
)

// BenjaminiHochberg returns the Benjamini-Hochberg (1995) false discovery rate
// adjusted p-values of p, exactly as R's p.adjust(p, "BH"): with the m p-values that
// are not NaN in ascending order p(1) ≤ … ≤ p(m),
//
//	adjusted p(i) = min(1, min_{j ≥ i} m·p(j)/j).
//
// A hypothesis is rejected at false discovery rate q when its adjusted p-value is at
// most q. NaN p-values stay NaN and do not count in m, as in R.
func BenjaminiHochberg(p []float64) []float64 {
	out := make([]float64, len(p))
	type fdrRanked struct {
		p float64
		i int
	}
	ranked := make([]fdrRanked, 0, len(p))
	for i, v := range p {
		if math.IsNaN(v) {
			out[i] = v
			continue
		}
		ranked = append(ranked, fdrRanked{v, i})
	}
	// Ascending; tied p-values end up with the same adjusted value whatever their
	// order, so the sort need not be stable.
	slices.SortFunc(ranked, func(a, b fdrRanked) int { return cmp.Compare(a.p, b.p) })
	m := float64(len(ranked))
	run := math.Inf(1)
	for k := len(ranked) - 1; k >= 0; k-- {
		run = math.Min(run, m/float64(k+1)*ranked[k].p)
		out[ranked[k].i] = math.Min(1, run)
	}
	return out
}

// HotspotBin classifies a Gi* z-score whose p-value has been FDR-adjusted as
// ArcGIS's hot spot tools do in their Gi_Bin field: +3, +2, +1 for a hot spot at 99%,
// 95% and 90% confidence (adjusted p ≤ 0.01, 0.05, 0.10), -3, -2, -1 for a cold spot,
// 0 when not significant at 90% (or z or p is NaN, or z is 0).
func HotspotBin(z, adjustedP float64) int {
	var b int
	switch {
	case adjustedP <= 0.01:
		b = 3
	case adjustedP <= 0.05:
		b = 2
	case adjustedP <= 0.10:
		b = 1
	default: // includes NaN
		return 0
	}
	switch {
	case z > 0:
		return b
	case z < 0:
		return -b
	}
	return 0
}

// HotspotBins returns the ArcGIS-style confidence bin (see HotspotBin) of each
// Gi* z-score after the Benjamini-Hochberg correction of their two-sided p-values
// over all of them: ArcGIS's "Apply False Discovery Rate (FDR) correction". It also
// returns the adjusted p-values.
func HotspotBins(z []float64) (bins []int, adjustedP []float64) {
	adjustedP = BenjaminiHochberg(GiPValues(z))
	bins = make([]int, len(z))
	for i := range z {
		bins[i] = HotspotBin(z[i], adjustedP[i])
	}
	return bins, adjustedP
}
