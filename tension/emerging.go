package tension

import (
	"math"

	"github.com/tensionmap/tensionmap/geo"
)

// Category is the emerging hot spot pattern of a cell over the time steps of a
// space-time cube, as ArcGIS Pro's Emerging Hot Spot Analysis names them.
type Category string

// The categories. See ClassifyHotspotSeries for the exact rules.
const (
	CategoryNoPattern           Category = "no_pattern"
	CategoryNewHotSpot          Category = "new_hot_spot"
	CategoryConsecutiveHotSpot  Category = "consecutive_hot_spot"
	CategoryIntensifyingHotSpot Category = "intensifying_hot_spot"
	CategoryPersistentHotSpot   Category = "persistent_hot_spot"
	CategoryDiminishingHotSpot  Category = "diminishing_hot_spot"
	CategorySporadicHotSpot     Category = "sporadic_hot_spot"
	CategoryOscillatingHotSpot  Category = "oscillating_hot_spot"
	CategoryHistoricalHotSpot   Category = "historical_hot_spot"

	CategoryNewColdSpot          Category = "new_cold_spot"
	CategoryConsecutiveColdSpot  Category = "consecutive_cold_spot"
	CategoryIntensifyingColdSpot Category = "intensifying_cold_spot"
	CategoryPersistentColdSpot   Category = "persistent_cold_spot"
	CategoryDiminishingColdSpot  Category = "diminishing_cold_spot"
	CategorySporadicColdSpot     Category = "sporadic_cold_spot"
	CategoryOscillatingColdSpot  Category = "oscillating_cold_spot"
	CategoryHistoricalColdSpot   Category = "historical_cold_spot"
)

// Hot reports whether the category is one of the hot spot patterns.
func (c Category) Hot() bool {
	switch c {
	case CategoryNewHotSpot, CategoryConsecutiveHotSpot, CategoryIntensifyingHotSpot, CategoryPersistentHotSpot,
		CategoryDiminishingHotSpot, CategorySporadicHotSpot, CategoryOscillatingHotSpot, CategoryHistoricalHotSpot:
		return true
	}
	return false
}

// Cold reports whether the category is one of the cold spot patterns.
func (c Category) Cold() bool {
	switch c {
	case CategoryNewColdSpot, CategoryConsecutiveColdSpot, CategoryIntensifyingColdSpot, CategoryPersistentColdSpot,
		CategoryDiminishingColdSpot, CategorySporadicColdSpot, CategoryOscillatingColdSpot, CategoryHistoricalColdSpot:
		return true
	}
	return false
}

// DefaultEmergingAlpha is the significance level of emerging hot spot analysis,
// for the hot and cold spot bins and for the trend: 90% confidence, as ArcGIS.
const DefaultEmergingAlpha = 0.10

// HotspotCube is a space-time cube of counts over a study area of H3 cells, the
// input of EmergingHotspots.
type HotspotCube struct {
	// Cells is the study area: H3 cells of one resolution, each once. Cells with no
	// incidents must be included with count 0 (see H3GiNeighbours).
	Cells []uint64
	// Steps is the number of time steps (for example weeks), oldest first.
	Steps int
	// Counts holds len(Cells)·Steps counts, step-major: Counts[t·len(Cells)+i] is
	// the count of Cells[i] in step t.
	Counts []float64
	// K is the grid-disk radius of the spatial neighbourhood: 0 means DefaultGiK.
	K int
	// PrevSteps is ArcGIS's "neighbourhood time step": how many earlier steps of the
	// same neighbourhood count in a bin's Gi*. 0 means 1 (or 0 for a one-step cube);
	// a negative value means none, a purely spatial Gi* within each step.
	PrevSteps int
	// Alpha is the significance level: 0 means DefaultEmergingAlpha.
	Alpha float64
	// NoFDR skips the Benjamini-Hochberg correction of the bins' p-values, which
	// ArcGIS always applies.
	NoFDR bool
}

// CellPattern is the emerging hot spot verdict on one cell.
type CellPattern struct {
	// Cell is the H3 cell (0 from ClassifyHotspotSeries).
	Cell uint64
	// Category is the cell's pattern.
	Category Category
	// Z is the Gi* z-score of the cell's latest step.
	Z float64
	// P is the p-value of the cell's latest step, FDR-adjusted unless the cube said
	// NoFDR.
	P float64
	// Bin is the ArcGIS confidence bin of the latest step (see HotspotBin).
	Bin int
	// TrendZ and TrendP are the Mann-Kendall trend test (with continuity
	// correction) of the cell's Gi* z-scores over the steps; NaN with fewer than 3
	// steps or when the z-scores are NaN or all equal.
	TrendZ, TrendP float64
	// HotSteps and ColdSteps count the steps in which the cell is a significant hot
	// or cold spot.
	HotSteps, ColdSteps int
	// HotShare and ColdShare are HotSteps and ColdSteps over the number of steps.
	HotShare, ColdShare float64
}

// EmergingHotspots runs ArcGIS Pro's Emerging Hot Spot Analysis on a cube: the Gi*
// z-score of every bin over its space-time neighbourhood (see GiCube), the two-sided
// p-values corrected for the false discovery rate over all bins with
// Benjamini-Hochberg, a bin being a significant hot (cold) spot when its corrected p
// is at most Alpha and its z positive (negative); then for each cell the
// Mann-Kendall trend of its z-scores and its category (see ClassifyHotspotSeries).
// The result has one CellPattern per cell, in the order of cube.Cells. The error
// reports an invalid cube: bad cells (see H3GiNeighbours), a count per bin missing,
// a NaN or infinite count, PrevSteps not below Steps, Alpha outside (0, 1).
func EmergingHotspots(cube HotspotCube) ([]CellPattern, error) {
	nc := len(cube.Cells)
	if cube.Steps < 1 || nc == 0 {
		return nil, geo.Errorf(geo.EINVALID, "emerging hot spots: a cube of %d cells by %d steps", nc, cube.Steps)
	}
	if len(cube.Counts) != nc*cube.Steps {
		return nil, geo.Errorf(geo.EINVALID, "emerging hot spots: %d counts for %d cells by %d steps", len(cube.Counts), nc, cube.Steps)
	}
	k := cube.K
	if k == 0 {
		k = DefaultGiK
	}
	prev := cube.PrevSteps
	switch {
	case prev == 0:
		prev = min(1, cube.Steps-1)
	case prev < 0:
		prev = 0
	}
	alpha, err := ehsAlpha(cube.Alpha)
	if err != nil {
		return nil, err
	}
	gc, err := NewGiCube(cube.Cells, cube.Steps, k, prev)
	if err != nil {
		return nil, err
	}
	z, err := gc.GiStar(cube.Counts)
	if err != nil {
		return nil, err
	}
	p := GiPValues(z)
	if !cube.NoFDR {
		p = BenjaminiHochberg(p)
	}
	out := make([]CellPattern, nc)
	zs := make([]float64, cube.Steps)
	ps := make([]float64, cube.Steps)
	for i, cell := range cube.Cells {
		for t := range zs {
			zs[t] = z[t*nc+i]
			ps[t] = p[t*nc+i]
		}
		out[i] = ehsClassify(zs, ps, alpha)
		out[i].Cell = cell
	}
	return out, nil
}

func ehsAlpha(a float64) (float64, error) {
	if a == 0 {
		return DefaultEmergingAlpha, nil
	}
	if !(a > 0 && a < 1) {
		return 0, geo.Errorf(geo.EINVALID, "emerging hot spots: significance level %v is outside (0, 1)", a)
	}
	return a, nil
}

// ClassifyHotspotSeries categorises one cell from its Gi* z-scores and their
// (usually FDR-adjusted) p-values over the steps of a cube, oldest first, at
// significance level alpha (0 means DefaultEmergingAlpha). A step is a significant
// hot spot when p ≤ alpha and z > 0, a cold spot when p ≤ alpha and z < 0. The trend
// is the Mann-Kendall test of the z-scores with continuity correction, significant
// when its p ≤ alpha. With n steps, of which H hot and C cold, "90% of the steps"
// meaning H ≥ 0.9·n (10·H ≥ 9·n, exactly), the rules, after ArcGIS Pro's "How
// Emerging Hot Spot Analysis works", are, when the last step is hot:
//
//   - Intensifying: H ≥ 90% of the steps and a significant upward trend.
//   - Diminishing: H ≥ 90% and a significant downward trend.
//   - Persistent: H ≥ 90% and no significant trend (or none computable).
//   - Oscillating: H < 90% and some earlier step is a significant cold spot.
//   - New: H < 90%, the last step is the only hot step, and no step is cold.
//   - Consecutive: H < 90%, the hot steps are one unbroken run of two or more
//     ending at the last step, and no step is cold.
//   - Sporadic: H < 90%, no step is cold, and hot steps came and went before the
//     final run of hot steps.
//
// When the last step is cold the same rules hold with hot and cold swapped and, for
// intensifying and diminishing, the trend's sign too (an intensifying cold spot's
// z-scores fall). When the last step is neither: Historical hot spot if H ≥ 90%,
// historical cold spot if C ≥ 90%, otherwise no pattern; a cell hot only in the past
// with H < 90% has no pattern, as in ArcGIS.
//
// Two choices where ArcGIS's wording leaves room: New and Consecutive also require
// that the cell was never a cold spot (a cold spot turned hot is Oscillating), and a
// cell whose last step is significant takes a pattern of that kind even when it
// would otherwise be Historical of the other (a cell hot 90% of the time whose last
// step is cold is an oscillating cold spot).
//
// The error reports series of different or zero length, or alpha outside (0, 1).
func ClassifyHotspotSeries(z, p []float64, alpha float64) (CellPattern, error) {
	if len(z) != len(p) || len(z) == 0 {
		return CellPattern{}, geo.Errorf(geo.EINVALID, "emerging hot spots: %d z-scores and %d p-values", len(z), len(p))
	}
	a, err := ehsAlpha(alpha)
	if err != nil {
		return CellPattern{}, err
	}
	return ehsClassify(z, p, a), nil
}

// ehsClassify is ClassifyHotspotSeries on checked input.
func ehsClassify(z, p []float64, alpha float64) CellPattern {
	n := len(z)
	last := n - 1
	cp := CellPattern{Z: z[last], P: p[last], Bin: HotspotBin(z[last], p[last]), TrendZ: math.NaN(), TrendP: math.NaN()}
	sig := make([]int8, n) // +1 hot, -1 cold, 0 neither
	for t := range z {
		if p[t] <= alpha {
			switch {
			case z[t] > 0:
				sig[t] = 1
				cp.HotSteps++
			case z[t] < 0:
				sig[t] = -1
				cp.ColdSteps++
			}
		}
	}
	cp.HotShare = float64(cp.HotSteps) / float64(n)
	cp.ColdShare = float64(cp.ColdSteps) / float64(n)
	if mk, err := MannKendall(z, true); err == nil {
		cp.TrendZ, cp.TrendP = mk.Z, mk.P
	}
	trend := 0              // +1 significant upward, -1 downward
	if cp.TrendP <= alpha { // false for NaN
		switch {
		case cp.TrendZ > 0:
			trend = 1
		case cp.TrendZ < 0:
			trend = -1
		}
	}
	mostly := func(k int) bool { return 10*k >= 9*n }

	switch s := sig[last]; s {
	case 0:
		switch {
		case mostly(cp.HotSteps):
			cp.Category = CategoryHistoricalHotSpot
		case mostly(cp.ColdSteps):
			cp.Category = CategoryHistoricalColdSpot
		default:
			cp.Category = CategoryNoPattern
		}
	default:
		same, other := cp.HotSteps, cp.ColdSteps
		if s < 0 {
			same, other = other, same
		}
		// The final run of steps of the last step's kind.
		run := 0
		for t := last; t >= 0 && sig[t] == s; t-- {
			run++
		}
		var c ehsPattern
		switch {
		case mostly(same) && trend == int(s):
			c = ehsIntensifying
		case mostly(same) && trend == -int(s):
			c = ehsDiminishing
		case mostly(same):
			c = ehsPersistent
		case other > 0:
			c = ehsOscillating
		case same == run && run == 1:
			c = ehsNew
		case same == run:
			c = ehsConsecutive
		default:
			c = ehsSporadic
		}
		cp.Category = c.ehsCategory(s > 0)
	}
	return cp
}

// ehsPattern is a pattern that has a hot and a cold category.
type ehsPattern int

const (
	ehsIntensifying ehsPattern = iota
	ehsDiminishing
	ehsPersistent
	ehsOscillating
	ehsNew
	ehsConsecutive
	ehsSporadic
)

// ehsCategory returns the pattern's hot or cold category.
func (c ehsPattern) ehsCategory(hot bool) Category {
	var h, k Category
	switch c {
	case ehsIntensifying:
		h, k = CategoryIntensifyingHotSpot, CategoryIntensifyingColdSpot
	case ehsDiminishing:
		h, k = CategoryDiminishingHotSpot, CategoryDiminishingColdSpot
	case ehsPersistent:
		h, k = CategoryPersistentHotSpot, CategoryPersistentColdSpot
	case ehsOscillating:
		h, k = CategoryOscillatingHotSpot, CategoryOscillatingColdSpot
	case ehsNew:
		h, k = CategoryNewHotSpot, CategoryNewColdSpot
	case ehsConsecutive:
		h, k = CategoryConsecutiveHotSpot, CategoryConsecutiveColdSpot
	default:
		h, k = CategorySporadicHotSpot, CategorySporadicColdSpot
	}
	if hot {
		return h
	}
	return k
}
