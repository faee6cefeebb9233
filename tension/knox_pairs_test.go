package tension

// The pair-list implementation of the Knox test and the near-repeat table that the
// space-time grid replaced, kept as the reference the grid's counts are tested
// against: it lists every pair within the largest distance, so its memory and time
// grow with the square of the events in a town.

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/tensionmap/tensionmap/geo"
)

// knoxByPairs is Knox as it was before the space-time grid: it runs the Knox test for one distance and one time threshold, computing the
// statistic, expected count and p-values as surveillance::knox does. It returns an
// EINVALID *geo.Error for a negative or non-finite threshold or coordinate, negative
// Replicates or Workers, an unknown Null or fewer than 2 events.
func knoxByPairs(events []KnoxEvent, o KnoxOptions) (KnoxResult, error) {
	if !(o.Distance >= 0) || math.IsInf(o.Distance, 1) || o.Days < 0 {
		return KnoxResult{}, geo.Errorf(geo.EINVALID, "knox: thresholds must be finite and not negative (distance %v, days %d)", o.Distance, o.Days)
	}
	if o.Replicates < 0 || o.Workers < 0 || (o.Null != KnoxPermuteDays && o.Null != KnoxPermutePairs) {
		return KnoxResult{}, geo.Errorf(geo.EINVALID, "knox: Replicates and Workers must not be negative and Null must be KnoxPermuteDays or KnoxPermutePairs")
	}
	if err := knoxCheck(events); err != nil {
		return KnoxResult{}, err
	}
	n := len(events)
	r := KnoxResult{Events: n, Pairs: n * (n - 1) / 2, Replicates: o.Replicates, Null: o.Null, P: math.NaN()}
	near := knoxClosePairs(events, o.Distance)
	days := make([]int, n)
	for i, e := range events {
		days[i] = e.Day
	}
	r.CloseInSpace = len(near)
	r.CloseInTime = knoxPairsWithin(days, o.Days)
	r.Observed = knoxCount(near, days, o.Days)
	r.Table = [2][2]int{
		{r.Observed, r.CloseInTime - r.Observed},
		{r.CloseInSpace - r.Observed, r.Pairs - r.CloseInTime - r.CloseInSpace + r.Observed},
	}
	// R: sum(knoxtab[1L, ]) / npairs * sum(knoxtab[, 1L]), evaluated left to right.
	r.Expected = float64(r.CloseInTime) / float64(r.Pairs) * float64(r.CloseInSpace)
	r.PoissonP = knoxPoissonAbove(r.Observed, r.Expected)
	if o.Replicates == 0 {
		return r, nil
	}
	ge := 0
	var mu sync.Mutex
	knoxRun(o.Replicates, o.Workers, func() func(rep int, rng *rand.Rand) {
		perm := slices.Clone(days)
		local := 0
		return func(rep int, rng *rand.Rand) {
			if rep < 0 { // the worker is done
				mu.Lock()
				ge += local
				mu.Unlock()
				return
			}
			var stat int
			if o.Null == KnoxPermutePairs {
				stat = knoxHypergeometric(rng, r.Pairs, r.CloseInTime, r.CloseInSpace)
			} else {
				copy(perm, days)
				rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
				stat = knoxCount(near, perm, o.Days)
			}
			if stat >= r.Observed {
				local++
			}
		}
	}, o.Seed, "knox")
	r.P = float64(ge+1) / float64(o.Replicates+1)
	return r, nil
}

// knoxPair is a pair of events (i < j) close in space, with its distance in metres.
type knoxPair struct {
	i, j int32
	d    float64
}

// knoxDistance is the Euclidean distance as R's dist() computes it for two columns,
// sqrt((0 + dx²) + dy²), without fused multiply-adds, so that thresholds fall on the
// same side in both.
func knoxDistance(a, b KnoxEvent) float64 {
	dx, dy := a.X-b.X, a.Y-b.Y
	return math.Sqrt(float64(dx*dx) + float64(dy*dy))
}

// knoxClosePairs returns the pairs within maxD metres, found through a square grid of
// side a little over maxD (so only neighbouring squares need comparing), by i then j.
func knoxClosePairs(events []KnoxEvent, maxD float64) []knoxPair {
	side := maxD*(1+1e-9) + 1e-6
	type key struct{ x, y int64 }
	squares := make(map[key][]int32)
	for i, e := range events {
		k := key{int64(math.Floor(e.X / side)), int64(math.Floor(e.Y / side))}
		squares[k] = append(squares[k], int32(i))
	}
	var pairs []knoxPair
	for i, e := range events {
		k := key{int64(math.Floor(e.X / side)), int64(math.Floor(e.Y / side))}
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				for _, j := range squares[key{k.x + dx, k.y + dy}] {
					if int(j) <= i {
						continue
					}
					if d := knoxDistance(e, events[j]); d <= maxD {
						pairs = append(pairs, knoxPair{int32(i), j, d})
					}
				}
			}
		}
	}
	slices.SortFunc(pairs, func(a, b knoxPair) int {
		if a.i != b.i {
			return int(a.i - b.i)
		}
		return int(a.j - b.j)
	})
	return pairs
}

// knoxCount counts the pairs whose days differ by at most t.
func knoxCount(pairs []knoxPair, days []int, t int) int {
	c := 0
	for _, p := range pairs {
		if d := days[p.i] - days[p.j]; d <= t && d >= -t {
			c++
		}
	}
	return c
}

// nearRepeatByPairs is NearRepeat as it was before the space-time grid, walking the
// list of pairs within the last distance bound in every replicate: it builds the
// near-repeat table of events. The distance and time of every
// pair fall in exactly one band cell. It returns an EINVALID *geo.Error for bounds
// that are negative, not finite or not strictly ascending, fewer than 2 events, a
// non-finite position, Replicates below 1 or negative Workers.
func nearRepeatByPairs(events []KnoxEvent, o NearRepeatOptions) (NearRepeatTable, error) {
	if len(o.Distances) == 0 || len(o.Days) == 0 {
		return NearRepeatTable{}, geo.Errorf(geo.EINVALID, "near repeat: at least one distance and one time band are needed")
	}
	for i, d := range o.Distances {
		if !(d >= 0) || math.IsInf(d, 1) || (i > 0 && !(d > o.Distances[i-1])) {
			return NearRepeatTable{}, geo.Errorf(geo.EINVALID, "near repeat: distance bounds %v must be finite, not negative and strictly ascending", o.Distances)
		}
	}
	for i, d := range o.Days {
		if d < 0 || (i > 0 && d <= o.Days[i-1]) {
			return NearRepeatTable{}, geo.Errorf(geo.EINVALID, "near repeat: day bounds %v must not be negative and must be strictly ascending", o.Days)
		}
	}
	if o.Replicates < 1 || o.Workers < 0 {
		return NearRepeatTable{}, geo.Errorf(geo.EINVALID, "near repeat: Replicates must be at least 1 and Workers not negative")
	}
	if err := knoxCheck(events); err != nil {
		return NearRepeatTable{}, err
	}
	n := len(events)
	nd, nt := len(o.Distances)+1, len(o.Days)+1
	t := NearRepeatTable{
		Distances: slices.Clone(o.Distances), Days: slices.Clone(o.Days),
		Events: n, Pairs: n * (n - 1) / 2, Replicates: o.Replicates,
	}
	days := make([]int, n)
	for i, e := range events {
		days[i] = e.Day
	}
	// Only pairs within the last distance bound need looking at in a replicate: the
	// row totals (pairs per distance band) do not change when days are shuffled, and
	// neither do the column totals (the differences between days are only reassigned
	// among the pairs), so the last row and column follow from the others.
	near := knoxClosePairs(events, o.Distances[len(o.Distances)-1])
	band := make([]int32, len(near))
	rowTotal := make([]int, nd)
	for p, c := range near {
		b, _ := slices.BinarySearch(o.Distances, c.d) // first bound ≥ d
		band[p] = int32(b)
		rowTotal[b]++
	}
	rowTotal[nd-1] = t.Pairs - len(near)
	colTotal := make([]int, nt)
	prev := 0
	for j, b := range o.Days {
		within := knoxPairsWithin(days, b)
		colTotal[j] = within - prev
		prev = within
	}
	colTotal[nt-1] = t.Pairs - prev

	// The time band of every day difference up to the last bound, looked up rather
	// than searched: the replicates spend their time in this loop.
	last := o.Days[len(o.Days)-1]
	col := make([]int32, last+1)
	for d := range col {
		j, _ := slices.BinarySearch(o.Days, d)
		col[d] = int32(j)
	}
	type bandPair struct{ i, j, cell int32 }
	pairs := make([]bandPair, len(near))
	for p, c := range near {
		pairs[p] = bandPair{c.i, c.j, band[p] * int32(nt)}
	}
	fill := func(dst []int, days []int) {
		clear(dst)
		for _, c := range pairs {
			diff := days[c.i] - days[c.j]
			if diff < 0 {
				diff = -diff
			}
			if diff <= last {
				dst[int(c.cell)+int(col[diff])]++
			}
		}
		// The last column: row totals less the other columns; then the last row:
		// column totals less the rows above.
		for i := range nd - 1 {
			s := 0
			for j := range nt - 1 {
				s += dst[i*nt+j]
			}
			dst[i*nt+nt-1] = rowTotal[i] - s
		}
		for j := range nt {
			s := 0
			for i := range nd - 1 {
				s += dst[i*nt+j]
			}
			dst[(nd-1)*nt+j] = colTotal[j] - s
		}
	}
	obs := make([]int, nd*nt)
	fill(obs, days)

	sum := make([]int64, nd*nt)
	ge := make([]int, nd*nt)
	var mu sync.Mutex
	knoxRun(o.Replicates, o.Workers, func() func(int, *rand.Rand) {
		perm := slices.Clone(days)
		cnt := make([]int, nd*nt)
		lsum := make([]int64, nd*nt)
		lge := make([]int, nd*nt)
		return func(rep int, rng *rand.Rand) {
			if rep < 0 {
				mu.Lock()
				for k := range sum {
					sum[k] += lsum[k]
					ge[k] += lge[k]
				}
				mu.Unlock()
				return
			}
			copy(perm, days)
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			fill(cnt, perm)
			for k, v := range cnt {
				lsum[k] += int64(v)
				if v >= obs[k] {
					lge[k]++
				}
			}
		}
	}, o.Seed, "near repeat")

	t.Observed = make([][]int, nd)
	t.Expected = make([][]float64, nd)
	t.Ratio = make([][]float64, nd)
	t.P = make([][]float64, nd)
	for i := range nd {
		t.Observed[i] = obs[i*nt : (i+1)*nt]
		t.Expected[i] = make([]float64, nt)
		t.Ratio[i] = make([]float64, nt)
		t.P[i] = make([]float64, nt)
		for j := range nt {
			k := i*nt + j
			t.Expected[i][j] = float64(sum[k]) / float64(o.Replicates)
			t.Ratio[i][j] = math.NaN()
			if t.Expected[i][j] > 0 {
				t.Ratio[i][j] = float64(obs[k]) / t.Expected[i][j]
			}
			t.P[i][j] = float64(ge[k]+1) / float64(o.Replicates+1)
		}
	}
	return t, nil
}
