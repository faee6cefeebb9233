package tension

import (
	"math"
	"slices"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
)

// DefaultGiK is the H3 grid-disk radius of a Gi* neighbourhood by default: a cell
// and the 6 cells around it.
const DefaultGiK = 1

// MaxGiK bounds the grid-disk radius of a Gi* neighbourhood (a disk of radius 20
// holds 1,261 cells).
const MaxGiK = 20

// GiNeighbours is a binary weights list for the Getis-Ord Gi* statistic: for each
// observation (a cell, or a space-time bin) the indices of the observations in its
// neighbourhood, itself included, each with weight 1. It is what R's spdep builds
// with nb2listw(include.self(nb), style = "B"). Build it once and reuse it: it is
// read-only and safe for concurrent use.
type GiNeighbours struct {
	start []int32 // observation i's neighbours are idx[start[i]:start[i+1]], ascending
	idx   []int32
}

// NewGiNeighbours builds a weights list from explicit neighbour lists: lists[i]
// holds the indices (0-based) of observation i's neighbours, and must hold i itself.
// The error reports an index out of range, a repeated index, or a list without its
// own observation.
func NewGiNeighbours(lists [][]int) (*GiNeighbours, error) {
	if len(lists) >= math.MaxInt32 {
		return nil, geo.Errorf(geo.EINVALID, "Gi*: %d observations are too many", len(lists))
	}
	nb := &GiNeighbours{start: make([]int32, 1, len(lists)+1)}
	for i, l := range lists {
		from := len(nb.idx)
		self := false
		for _, j := range l {
			if j < 0 || j >= len(lists) {
				return nil, geo.Errorf(geo.EINVALID, "Gi*: observation %d has neighbour %d, outside 0 to %d", i, j, len(lists)-1)
			}
			self = self || j == i
			nb.idx = append(nb.idx, int32(j))
		}
		own := nb.idx[from:]
		slices.Sort(own)
		for k := 1; k < len(own); k++ {
			if own[k] == own[k-1] {
				return nil, geo.Errorf(geo.EINVALID, "Gi*: observation %d lists neighbour %d twice", i, own[k])
			}
		}
		if !self {
			return nil, geo.Errorf(geo.EINVALID, "Gi*: observation %d is not in its own neighbourhood (Gi* includes it)", i)
		}
		nb.start = append(nb.start, int32(len(nb.idx)))
	}
	return nb, nil
}

// Len returns the number of observations.
func (nb *GiNeighbours) Len() int { return len(nb.start) - 1 }

// Neighbours returns the indices of observation i's neighbours, itself included,
// in ascending order. The slice is shared: do not modify it.
func (nb *GiNeighbours) Neighbours(i int) []int32 { return nb.idx[nb.start[i]:nb.start[i+1]] }

// GiStar returns the Gi* z-score of every observation given its value (Ord and
// Getis 1995, eq. 14 with binary weights and the observation in its own
// neighbourhood), exactly as R's spdep::localG(x, listw) with a self-included binary
// listw:
//
//	z_i = (Σ_j w_ij x_j − W_i x̄) / sqrt(s² (n W_i − W_i²) / (n − 1)),
//
// where n is the number of observations, x̄ = Σx/n, s² = Σ(x − x̄)²/n (the population
// variance), W_i = Σ_j w_ij is the size of i's neighbourhood. Every observation is in
// its own neighbourhood, so no observation is without neighbours (spdep's
// zero.policy never applies). When every value is the same, s² is 0 and every z is
// NaN, as in R; an observation whose neighbourhood is every observation has a zero
// variance too. The error reports a length mismatch or a NaN or infinite value.
func (nb *GiNeighbours) GiStar(values []float64) ([]float64, error) {
	n := nb.Len()
	if len(values) != n {
		return nil, geo.Errorf(geo.EINVALID, "Gi*: %d values for %d observations", len(values), n)
	}
	mean, s2, err := giMoments(values)
	if err != nil {
		return nil, err
	}
	z := make([]float64, n)
	fn := float64(n)
	for i := range z {
		var lag float64
		for _, j := range nb.idx[nb.start[i]:nb.start[i+1]] {
			lag += values[j]
		}
		z[i] = giZ(lag, float64(nb.start[i+1]-nb.start[i]), mean, s2, fn)
	}
	return z, nil
}

// giMoments returns the mean (refined with a second pass, as R's mean() is) and the
// population variance of values, or an error for a NaN or infinite value.
func giMoments(values []float64) (mean, s2 float64, err error) {
	if len(values) < 2 {
		return 0, 0, geo.Errorf(geo.EINVALID, "Gi*: %d observations: at least 2 are needed", len(values))
	}
	var sum float64
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, 0, geo.Errorf(geo.EINVALID, "Gi*: value %v of observation %d: values must be finite", v, i)
		}
		sum += v
	}
	n := float64(len(values))
	mean = sum / n
	var corr, ss float64
	for _, v := range values {
		d := v - mean
		corr += d
		ss += d * d
	}
	// The second pass's sum of squares is about the unrefined mean; the refinement
	// changes it by n·corr²/n², far below rounding.
	mean += corr / n
	return mean, ss / n, nil
}

// giZ is spdep's localG z-score for one observation with neighbourhood sum lag and
// W neighbours (binary weights, so S1 = W), in spdep's order of operations.
func giZ(lag, w, mean, s2, n float64) float64 {
	return (lag - w*mean) / math.Sqrt(s2*((n*w-w*w)/(n-1)))
}

// GiPValues returns the two-sided normal p-value 2·(1 − Φ(|z|)) of each z-score, as
// spdep::localG's internals report; NaN stays NaN.
func GiPValues(z []float64) []float64 {
	p := make([]float64, len(z))
	for i, v := range z {
		p[i] = math.Erfc(math.Abs(v) / math.Sqrt2)
	}
	return p
}

// H3GiNeighbours builds the Gi* weights list of a study area of H3 cells: cell i's
// neighbourhood is every cell of the area within grid distance k of it (h3's
// GridDisk(k)), itself included. The study area is exactly the cells given: a cell
// of the area with no incidents must be given, with value 0, or it is left out of
// both the neighbourhoods and the global mean and variance, and cells outside the
// area never count. Cells must be valid, distinct and of one resolution; 0 ≤ k ≤
// MaxGiK. Observation i of the result is cells[i].
func H3GiNeighbours(cells []uint64, k int) (*GiNeighbours, error) {
	if k < 0 || k > MaxGiK {
		return nil, geo.Errorf(geo.EINVALID, "Gi*: neighbourhood radius %d is outside 0 to %d", k, MaxGiK)
	}
	if len(cells) >= math.MaxInt32 {
		return nil, geo.Errorf(geo.EINVALID, "Gi*: %d cells are too many", len(cells))
	}
	pos := make(map[uint64]int32, len(cells))
	res := -1
	for i, c := range cells {
		hc := h3.Cell(c)
		if !hc.IsValid() {
			return nil, geo.Errorf(geo.EINVALID, "Gi*: %x is not an H3 cell", c)
		}
		if res == -1 {
			res = hc.Resolution()
		} else if hc.Resolution() != res {
			return nil, geo.Errorf(geo.EINVALID, "Gi*: cell %x is at resolution %d, cell %x at %d: one resolution only",
				c, hc.Resolution(), cells[0], res)
		}
		if _, dup := pos[c]; dup {
			return nil, geo.Errorf(geo.EINVALID, "Gi*: cell %x is given twice", c)
		}
		pos[c] = int32(i)
	}
	nb := &GiNeighbours{start: make([]int32, 1, len(cells)+1), idx: make([]int32, 0, len(cells)*(3*k*(k+1)+1))}
	for _, c := range cells {
		from := len(nb.idx)
		for _, d := range h3.Cell(c).GridDisk(k) {
			if j, ok := pos[uint64(d)]; ok {
				nb.idx = append(nb.idx, j)
			}
		}
		slices.Sort(nb.idx[from:])
		nb.start = append(nb.start, int32(len(nb.idx)))
	}
	return nb, nil
}

// GiStar returns the Gi* z-score of each cell of a study area (see H3GiNeighbours
// for the neighbourhoods and what the study area is) given its value, usually its
// count: values[i] belongs to cells[i]. See GiNeighbours.GiStar for the statistic;
// GiPValues gives p-values. To score many sets of values over the same cells, build
// the neighbours once with H3GiNeighbours.
func GiStar(cells []uint64, values []float64, k int) ([]float64, error) {
	if len(values) != len(cells) {
		return nil, geo.Errorf(geo.EINVALID, "Gi*: %d values for %d cells", len(values), len(cells))
	}
	nb, err := H3GiNeighbours(cells, k)
	if err != nil {
		return nil, err
	}
	return nb.GiStar(values)
}

// GiCube is the Gi* neighbourhood structure of a space-time cube: a study area of
// H3 cells (see H3GiNeighbours) observed over a number of time steps. Bin (t, i) is
// cell i at step t, at index t·len(cells)+i of the cube's values (step-major,
// oldest step first). Its neighbourhood is, as in ArcGIS's Emerging Hot Spot
// Analysis with a "neighbourhood time step" of PrevSteps, the cells of cell i's
// spatial neighbourhood (itself included) at step t and at each of the PrevSteps
// steps before it that exist: early steps have smaller neighbourhoods. The
// statistic is one Gi* over all bins, so the mean and variance are those of the
// whole cube. A GiCube is read-only and safe for concurrent use.
type GiCube struct {
	spatial *GiNeighbours
	cells   int
	steps   int
	prev    int
}

// NewGiCube builds the neighbourhood structure of a cube of cells over steps time
// steps with spatial radius k (0 ≤ k ≤ MaxGiK) and prevSteps earlier steps in each
// neighbourhood (0 ≤ prevSteps < steps). The error reports invalid cells (see
// H3GiNeighbours) or parameters.
func NewGiCube(cells []uint64, steps, k, prevSteps int) (*GiCube, error) {
	if steps < 1 {
		return nil, geo.Errorf(geo.EINVALID, "Gi* cube: %d time steps", steps)
	}
	if prevSteps < 0 || prevSteps >= steps {
		return nil, geo.Errorf(geo.EINVALID, "Gi* cube: %d previous steps in a neighbourhood of a cube of %d steps", prevSteps, steps)
	}
	if int64(len(cells))*int64(steps) >= math.MaxInt32 {
		return nil, geo.Errorf(geo.EINVALID, "Gi* cube: %d cells by %d steps is too many bins", len(cells), steps)
	}
	sp, err := H3GiNeighbours(cells, k)
	if err != nil {
		return nil, err
	}
	return &GiCube{spatial: sp, cells: len(cells), steps: steps, prev: prevSteps}, nil
}

// Bins returns the number of bins, cells × steps.
func (c *GiCube) Bins() int { return c.cells * c.steps }

// Neighbours returns the cube's neighbourhoods as an explicit weights list over
// its bins, for checking or for exporting to other tools; GiStar does not need it.
func (c *GiCube) Neighbours() *GiNeighbours {
	nb := &GiNeighbours{start: make([]int32, 1, c.Bins()+1)}
	for t := 0; t < c.steps; t++ {
		for i := 0; i < c.cells; i++ {
			for u := max(0, t-c.prev); u <= t; u++ {
				for _, j := range c.spatial.Neighbours(i) {
					nb.idx = append(nb.idx, int32(u*c.cells)+j)
				}
			}
			nb.start = append(nb.start, int32(len(nb.idx)))
		}
	}
	return nb
}

// GiStar returns the Gi* z-score of every bin of the cube given the bins' values
// (len(cells)·steps of them, step-major: values[t·len(cells)+i] is cell i at step t),
// in the same layout. It equals Neighbours().GiStar(values), and spdep::localG over
// the same neighbour list, but sums each cell's spatial neighbourhood once per step
// and then adds up the PrevSteps+1 sums of a bin's time window. The error reports a
// length mismatch or a NaN or infinite value.
func (c *GiCube) GiStar(values []float64) ([]float64, error) {
	if len(values) != c.Bins() {
		return nil, geo.Errorf(geo.EINVALID, "Gi* cube: %d values for %d cells by %d steps", len(values), c.cells, c.steps)
	}
	mean, s2, err := giMoments(values)
	if err != nil {
		return nil, err
	}
	// Spatial neighbourhood sums of each bin, then the time windows over them.
	lag := make([]float64, len(values))
	sp := c.spatial
	for t := 0; t < c.steps; t++ {
		row := values[t*c.cells : (t+1)*c.cells]
		out := lag[t*c.cells : (t+1)*c.cells]
		for i := range out {
			var s float64
			for _, j := range sp.idx[sp.start[i]:sp.start[i+1]] {
				s += row[j]
			}
			out[i] = s
		}
	}
	z := make([]float64, len(values))
	n := float64(len(values))
	for t := 0; t < c.steps; t++ {
		first := max(0, t-c.prev)
		width := float64(t - first + 1)
		for i := 0; i < c.cells; i++ {
			var s float64
			for u := first; u <= t; u++ {
				s += lag[u*c.cells+i]
			}
			w := width * float64(sp.start[i+1]-sp.start[i])
			z[t*c.cells+i] = giZ(s, w, mean, s2, n)
		}
	}
	return z, nil
}

// GiStarCube returns the Gi* z-score of every bin of a space-time cube of cells
// over steps time steps: values and the result are step-major, values[t·len(cells)+i]
// being cell i at step t. k is the spatial radius and prevSteps the number of
// earlier steps in each neighbourhood (see GiCube). To score a cube more than once,
// build it once with NewGiCube.
func GiStarCube(cells []uint64, steps int, values []float64, k, prevSteps int) ([]float64, error) {
	c, err := NewGiCube(cells, steps, k, prevSteps)
	if err != nil {
		return nil, err
	}
	return c.GiStar(values)
}
