package tension

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/mathext"
)

// The Knox test (E. G. Knox 1964, "The detection of space-time interactions", Applied
// Statistics 13:25-30) counts the pairs of events that are close both in space and in
// time; more such pairs than the space and time closeness alone explain means events
// bring others soon after and nearby: near repeats. The near-repeat table generalises it
// to bands of distance and time, in the layout of J. H. Ratcliffe's Near Repeat
// Calculator (2009; Temple University), and the risk zones turn the table into the
// cells where another incident is more likely in the coming days.

// KnoxEvent is one incident for the Knox test and the near-repeat table.
type KnoxEvent struct {
	// X and Y are the position in metres on a projected grid, such as British National
	// Grid easting and northing; distances are Euclidean.
	X, Y float64
	// Day is the day number on any fixed calendar.
	Day int
}

// KnoxNull says how the Knox test's Monte Carlo replicates are drawn.
type KnoxNull int

const (
	// KnoxPermuteDays shuffles the days among the events, keeping their places (the
	// Mantel permutation test, and the Near Repeat Calculator's null): every replicate
	// is a possible data set with no space-time interaction.
	KnoxPermuteDays KnoxNull = iota
	// KnoxPermutePairs shuffles the pairs' "close in time" flags among the pairs, as
	// surveillance::knox (R package surveillance, version 1.20) does: each replicate's
	// statistic is then hypergeometric. The pairs sharing an event are not independent,
	// so this null is narrower than KnoxPermuteDays and its p-values are smaller when
	// events come in bursts; it is here to reproduce surveillance::knox.
	KnoxPermutePairs
)

// KnoxOptions are the parameters of Knox.
type KnoxOptions struct {
	// Distance is the space threshold in metres: a pair is close in space when its
	// distance is at most Distance (surveillance's eps.s, with ds <= eps.s).
	Distance float64
	// Days is the time threshold: a pair is close in time when its days differ by at
	// most Days (eps.t, dt <= eps.t).
	Days int
	// Replicates is the number of Monte Carlo replicates (surveillance's B); 0 gives no
	// Monte Carlo p-value (NaN).
	Replicates int
	// Seed makes the replicates reproducible, whatever the number of workers.
	Seed uint64
	// Null picks the permutation; the zero value is KnoxPermuteDays.
	Null KnoxNull
	// Workers is the number of goroutines; 0 uses runtime.GOMAXPROCS(0).
	Workers int
}

// KnoxResult is the outcome of Knox.
type KnoxResult struct {
	Events int // n
	Pairs  int // n(n−1)/2
	// Table is surveillance's 2×2 table: Table[0][0] pairs close in time and space,
	// Table[0][1] close in time only, Table[1][0] close in space only, Table[1][1] neither.
	Table        [2][2]int
	CloseInTime  int // Table[0][0] + Table[0][1]
	CloseInSpace int // Table[0][0] + Table[1][0]
	// Observed is the Knox statistic, the number of pairs close in both.
	Observed int
	// Expected is the count expected if closeness in space and in time were
	// independent, CloseInTime/Pairs·CloseInSpace (surveillance's expression, to the bit).
	Expected float64
	// P is the Monte Carlo p-value, (1 + replicates with a statistic ≥ Observed)/(Replicates + 1),
	// NaN without replicates.
	P float64
	// PoissonP is surveillance's Poisson approximation, P(X > Observed) for X ~
	// Poisson(Expected): note "greater than", as surveillance computes it
	// (ppois(STATISTIC, expected, lower.tail = FALSE)); 0 when Expected is 0.
	PoissonP   float64
	Replicates int
	Null       KnoxNull
}

// Ratio returns Observed/Expected, the Knox ratio.
func (r KnoxResult) Ratio() float64 { return float64(r.Observed) / r.Expected }

// Knox runs the Knox test for one distance and one time threshold, computing the
// statistic, expected count and p-values as surveillance::knox does. It returns an
// EINVALID *geo.Error for a negative or non-finite threshold or coordinate, negative
// Replicates or Workers, an unknown Null or fewer than 2 events.
func Knox(events []KnoxEvent, o KnoxOptions) (KnoxResult, error) {
	return knox(events, o, knoxTuning{})
}

// knox is Knox with the grid tuned, for the tests.
func knox(events []KnoxEvent, o KnoxOptions, tune knoxTuning) (KnoxResult, error) {
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
	days := make([]int, n)
	for i, e := range events {
		days[i] = e.Day
	}
	workers := o.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	grid := newKnoxGrid(events, []float64{o.Distance}, tune)
	times := newKnoxTimes([]int{o.Days}, slices.Max(days)-slices.Min(days))
	r.CloseInSpace = grid.rowTotals(r.Pairs, workers)[0]
	r.CloseInTime = knoxPairsWithin(days, o.Days)
	var lay knoxLayout
	grid.lay(&lay, days)
	r.Observed = grid.countAll(&lay, &times, 1, workers)[0]
	lay = knoxLayout{}
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
		var lay knoxLayout
		cnt := make([]int, 1)
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
				grid.lay(&lay, perm)
				cnt[0] = 0
				grid.count(&lay, &times, cnt, 0, grid.cells, 0, grid.heavyPlaces())
				stat = cnt[0]
			}
			if stat >= r.Observed {
				local++
			}
		}
	}, o.Seed, "knox")
	r.P = float64(ge+1) / float64(o.Replicates+1)
	return r, nil
}

// knoxMaxDay bounds the day numbers, so that differences of days and bounds never
// overflow.
const knoxMaxDay = 1_000_000_000

// knoxCheck rejects fewer than 2 events, non-finite coordinates and days beyond
// knoxMaxDay either way.
func knoxCheck(events []KnoxEvent) error {
	if len(events) < 2 {
		return geo.Errorf(geo.EINVALID, "knox: %d events, at least 2 needed", len(events))
	}
	if len(events) > 1<<26 {
		return geo.Errorf(geo.EINVALID, "knox: %d events, at most %d", len(events), 1<<26)
	}
	for i, e := range events {
		if math.IsNaN(e.X) || math.IsInf(e.X, 0) || math.IsNaN(e.Y) || math.IsInf(e.Y, 0) {
			return geo.Errorf(geo.EINVALID, "knox: event %d has no finite position", i)
		}
		if e.Day < -knoxMaxDay || e.Day > knoxMaxDay {
			return geo.Errorf(geo.EINVALID, "knox: event %d is on day %d, beyond a billion days either side of the calendar's origin", i, e.Day)
		}
	}
	return nil
}

// knoxPairsWithin counts the pairs of days at most t apart, by two pointers over the
// sorted days.
func knoxPairsWithin(days []int, t int) int {
	s := slices.Clone(days)
	slices.Sort(s)
	count, lo := 0, 0
	for hi := range s {
		for s[hi]-s[lo] > t {
			lo++
		}
		count += hi - lo
	}
	return count
}

// knoxHypergeometric draws the number of marked items among draws items taken without
// replacement from total items of which marked are marked, exactly, by drawing the
// smaller of the two sets one item at a time.
func knoxHypergeometric(rng *rand.Rand, total, marked, draws int) int {
	if draws > marked {
		marked, draws = draws, marked
	}
	hits := 0
	for i := range draws {
		if rng.Int64N(int64(total-i)) < int64(marked-hits) {
			hits++
		}
	}
	return hits
}

// knoxPoissonAbove is P(X > k) for X ~ Poisson(lambda): the regularised lower incomplete
// gamma function P(k+1, lambda), accurate in the far tail.
func knoxPoissonAbove(k int, lambda float64) float64 {
	if lambda <= 0 {
		return 0
	}
	return mathext.GammaIncReg(float64(k+1), lambda)
}

// knoxRun runs replicates 0..reps-1 on workers goroutines (0: GOMAXPROCS). Each worker
// calls mk once for its own state; the function it returns is called with each
// replicate's index and a generator seeded from (seed, tag, index) alone, then once with
// index −1 when the worker is done.
func knoxRun(reps, workers int, mk func() func(int, *rand.Rand), seed uint64, tag string) {
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, reps))
	// Each replicate borrows a worker's state from the pool; at most workers run
	// at once, and each state is told when all are done.
	type state struct {
		f   func(int, *rand.Rand)
		src *rand.ChaCha8
		rng *rand.Rand
	}
	states := make([]*state, workers)
	pool := make(chan *state, workers)
	for i := range states {
		src := rand.NewChaCha8([32]byte{})
		states[i] = &state{f: mk(), src: src, rng: rand.New(src)}
		pool <- states[i]
	}
	var g errgroup.Group
	g.SetLimit(workers)
	for i := range reps {
		goRecover(&g, func() error {
			st := <-pool
			defer func() { pool <- st }()
			var key [32]byte
			copy(key[:16], tag)
			binary.LittleEndian.PutUint64(key[16:], seed)
			binary.LittleEndian.PutUint64(key[24:], uint64(i))
			st.src.Seed(key)
			st.f(i, st.rng)
			return nil
		})
	}
	waitOrPanic(&g)
	for _, st := range states {
		st.f(-1, nil)
	}
}

// NearRepeatOptions are the bands and replicates of NearRepeat.
type NearRepeatOptions struct {
	// Distances are the distance bands' upper bounds in metres, ascending, the first
	// at least 0: the bands are [0, Distances[0]], (Distances[0], Distances[1]], ...,
	// then "more than" the last. A first bound of 0 makes a "same location" band.
	Distances []float64
	// Days are the time bands' upper bounds in days, ascending, the first at least 0:
	// [0, Days[0]], (Days[0], Days[1]], ..., then "more than" the last.
	Days []int
	// Replicates is the number of Monte Carlo replicates (the calculator's
	// iterations); at least 1.
	Replicates int
	// Seed makes the replicates reproducible, whatever the number of workers.
	Seed uint64
	// Workers is the number of goroutines; 0 uses runtime.GOMAXPROCS(0).
	Workers int
}

// DefaultNearRepeatOptions returns the calculator's usual layout: same location, then
// 100 m bands to 500 m; 7-day bands to 28 days; 999 replicates, seed 1.
func DefaultNearRepeatOptions() NearRepeatOptions {
	return NearRepeatOptions{
		Distances:  []float64{0, 100, 200, 300, 400, 500},
		Days:       []int{7, 14, 21, 28},
		Replicates: 999,
		Seed:       1,
	}
}

// NearRepeatTable is the near-repeat calculator's output. Every matrix is indexed
// [distance band][time band], with len(Distances)+1 rows and len(Days)+1 columns: the
// last row and column are the "more than" bands.
type NearRepeatTable struct {
	Distances  []float64
	Days       []int
	Events     int
	Pairs      int // n(n−1)/2
	Replicates int
	// Observed counts the pairs of events in each band cell.
	Observed [][]int
	// Expected is the mean count over the replicates, each of which shuffles the days
	// among the events (keeping their places).
	Expected [][]float64
	// Ratio is the Knox ratio Observed/Expected, NaN when Expected is 0.
	Ratio [][]float64
	// P is (1 + replicates with a count ≥ Observed)/(Replicates + 1), the calculator's
	// p-value; small means more pairs in the band cell than chance gives.
	P [][]float64
}

// NearRepeat builds the near-repeat table of events. The distance and time of every
// pair fall in exactly one band cell. It lists no pairs: its memory grows with the
// events, and its time with the events plus the pairs within both the last distance
// and the last time bound, once for the table and once per replicate (see
// knoxGrid); the replicates run on Workers goroutines. It returns an EINVALID *geo.Error for bounds
// that are negative, not finite or not strictly ascending, fewer than 2 events, a
// non-finite position, Replicates below 1 or negative Workers.
func NearRepeat(events []KnoxEvent, o NearRepeatOptions) (NearRepeatTable, error) {
	return nearRepeat(events, o, knoxTuning{})
}

// nearRepeat is NearRepeat with the grid tuned, for the tests and the benchmark.
func nearRepeat(events []KnoxEvent, o NearRepeatOptions, tune knoxTuning) (NearRepeatTable, error) {
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
	// Only pairs within the last distance bound and the last time bound need counting
	// in a replicate: the row totals (pairs per distance band) do not change when
	// days are shuffled, and neither do the column totals (the differences between
	// days are only reassigned among the pairs), so the last row and column follow
	// from the others.
	workers := o.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	grid := newKnoxGrid(events, o.Distances, tune)
	rowTotal := grid.rowTotals(t.Pairs, workers)
	colTotal := make([]int, nt)
	prev := 0
	for j, b := range o.Days {
		within := knoxPairsWithin(days, b)
		colTotal[j] = within - prev
		prev = within
	}
	colTotal[nt-1] = t.Pairs - prev

	times := newKnoxTimes(o.Days, slices.Max(days)-slices.Min(days))
	// fill completes the table dst from the counts of the band cells within the last
	// bounds, inner ((nd−1)·(nt−1) of them).
	fill := func(dst, inner []int) {
		clear(dst)
		for i := range nd - 1 {
			copy(dst[i*nt:i*nt+nt-1], inner[i*(nt-1):(i+1)*(nt-1)])
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
	// The list of pairs near in space, where it is within its budget and quicker
	// (see knoxPairList).
	lo, hi := slices.Min(days), slices.Max(days)
	var list *knoxPairList
	if near, timeNear := t.Pairs-rowTotal[nd-1], t.Pairs-colTotal[nt-1]; knoxListFits(nt-1, n, hi-lo) &&
		useKnoxPairs(near, float64(timeNear)/float64(t.Pairs), tune) {
		limit := knoxPairBudget
		if tune.pairs > 0 {
			limit = math.MaxInt
		}
		list = grid.pairList(events, limit)
	}
	obs := make([]int, nd*nt)
	if list != nil {
		inner := make([]int, (nd-1)*(nt-1))
		list.count(&knoxListScratch{}, days, lo, hi, &times, inner)
		fill(obs, inner)
	} else {
		var lay knoxLayout
		grid.lay(&lay, days)
		fill(obs, grid.countAll(&lay, &times, nd-1, workers))
	}

	sum := make([]int64, nd*nt)
	ge := make([]int, nd*nt)
	var mu sync.Mutex
	knoxRun(o.Replicates, o.Workers, func() func(int, *rand.Rand) {
		perm := slices.Clone(days)
		var lay knoxLayout
		var scratch knoxListScratch
		inner := make([]int, (nd-1)*(nt-1))
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
			clear(inner)
			if list != nil {
				list.count(&scratch, perm, lo, hi, &times, inner)
			} else {
				grid.lay(&lay, perm)
				grid.count(&lay, &times, inner, 0, grid.cells, 0, grid.heavyPlaces())
			}
			fill(cnt, inner)
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

// DistanceLabel names distance band i as the calculator does: "Same location" for a
// band [0, 0], "0 to 100 m" for a first band [0, 100], "101 to 200 m" for (100, 200]
// (the calculator's whole metres; a band holds every distance over its lower bound up
// to its upper bound), "More than 400 m" for the last band.
func (t *NearRepeatTable) DistanceLabel(i int) string {
	switch {
	case i == len(t.Distances):
		return fmt.Sprintf("More than %s m", knoxNum(t.Distances[i-1]))
	case i == 0 && t.Distances[0] == 0:
		return "Same location"
	case i == 0:
		return fmt.Sprintf("0 to %s m", knoxNum(t.Distances[0]))
	}
	lo := t.Distances[i-1]
	if lo == math.Trunc(lo) {
		return fmt.Sprintf("%s to %s m", knoxNum(lo+1), knoxNum(t.Distances[i]))
	}
	return fmt.Sprintf("Over %s to %s m", knoxNum(lo), knoxNum(t.Distances[i]))
}

// DayLabel names time band j: "0 to 7 days", "8 to 14 days", "More than 28 days".
func (t *NearRepeatTable) DayLabel(j int) string {
	switch {
	case j == len(t.Days):
		return fmt.Sprintf("More than %d days", t.Days[j-1])
	case j == 0:
		return fmt.Sprintf("0 to %d days", t.Days[0])
	}
	return fmt.Sprintf("%d to %d days", t.Days[j-1]+1, t.Days[j])
}

func knoxNum(v float64) string { return fmt.Sprintf("%g", v) }

// NearRepeatRisk is how far and for how long the risk of another incident stays raised
// after one.
type NearRepeatRisk struct {
	Distance float64 // metres
	Days     int
}

// Risk reads the risk extent off the table. A band cell is significant when its
// Ratio is above 1 and its P is below alpha. The rule: the first band cell (the
// nearest distance band, the first time band) must be significant, else there is no
// raised risk (ok is false). Distance is the upper bound of the last distance band in
// the unbroken run of significant cells down the first time column, starting at the
// first band; Days is the upper bound of the last time band in the unbroken run of
// significant cells along the first distance row. The "more than" bands never count.
// With a "same location" first band, Days is how long repeats at the same place stay
// raised and Distance how far the raised risk reaches within the first time band.
func (t *NearRepeatTable) Risk(alpha float64) (risk NearRepeatRisk, ok bool) {
	sig := func(i, j int) bool { return t.Ratio[i][j] > 1 && t.P[i][j] < alpha }
	if len(t.Ratio) == 0 || !sig(0, 0) {
		return NearRepeatRisk{}, false
	}
	i := 0
	for i+1 < len(t.Distances) && sig(i+1, 0) {
		i++
	}
	j := 0
	for j+1 < len(t.Days) && sig(0, j+1) {
		j++
	}
	return NearRepeatRisk{Distance: t.Distances[i], Days: t.Days[j]}, true
}

// NearRepeatIncident is a recent incident around which to draw a risk zone.
type NearRepeatIncident struct {
	At  geo.LatLon
	Day int
}

// RiskCell is an H3 cell inside a near-repeat risk zone.
type RiskCell struct {
	Cell uint64
	// Until is the last day of raised risk: the latest incident day plus risk.Days.
	Until int
	// Incidents is the number of recent incidents whose zone covers the cell.
	Incidents int
}

// NearRepeatZones returns the H3 cells at resolution res whose centre lies within
// risk.Distance metres (great-circle, geo.Distance) of an incident of the last
// risk.Days days: incidents with analysisDay − risk.Days ≤ Day ≤ analysisDay. Each
// incident's own cell is always in its zone, however small the distance. Cells are in
// ascending order. It returns an EINVALID *geo.Error for a resolution outside 0 to 15,
// a negative or non-finite risk, a distance of more than 200 rings at the resolution,
// an incident after analysisDay or a position that is not a valid latitude and longitude.
func NearRepeatZones(incidents []NearRepeatIncident, analysisDay int, risk NearRepeatRisk, res int) ([]RiskCell, error) {
	if res < 0 || res > 15 {
		return nil, geo.Errorf(geo.EINVALID, "near repeat zones: H3 resolution %d is outside 0 to 15", res)
	}
	if !(risk.Distance >= 0) || math.IsInf(risk.Distance, 1) || risk.Days < 0 {
		return nil, geo.Errorf(geo.EINVALID, "near repeat zones: risk of %v m over %d days", risk.Distance, risk.Days)
	}
	zones := map[uint64]*RiskCell{}
	for i, in := range incidents {
		if in.Day > analysisDay {
			return nil, geo.Errorf(geo.EINVALID, "near repeat zones: incident %d is on day %d, after the analysis day %d", i, in.Day, analysisDay)
		}
		if !(in.At.Lat >= -90 && in.At.Lat <= 90 && in.At.Lon >= -180 && in.At.Lon <= 180) {
			return nil, geo.Errorf(geo.EINVALID, "near repeat zones: incident %d is at %v, not a latitude and longitude", i, in.At)
		}
		if analysisDay-in.Day > risk.Days {
			continue
		}
		until := in.Day + risk.Days
		add := func(c uint64) {
			z := zones[c]
			if z == nil {
				z = &RiskCell{Cell: c, Until: until}
				zones[c] = z
			}
			z.Until = max(z.Until, until)
			z.Incidents++
		}
		origin := h3.LatLngToCell(h3.NewLatLng(in.At.Lat, in.At.Lon), res)
		rings := knoxRings(origin, risk.Distance)
		if rings > knoxMaxRings {
			return nil, geo.Errorf(geo.EINVALID, "near repeat zones: %v m is %d rings at resolution %d, more than %d; use a coarser resolution", risk.Distance, rings, res, knoxMaxRings)
		}
		add(uint64(origin))
		for _, c := range origin.GridDisk(rings) {
			if c == origin {
				continue
			}
			ll := c.LatLng()
			if geo.Distance(in.At, geo.LatLon{Lat: ll.Lat, Lon: ll.Lng}) <= risk.Distance {
				add(uint64(c))
			}
		}
	}
	out := make([]RiskCell, 0, len(zones))
	for _, z := range zones {
		out = append(out, *z)
	}
	slices.SortFunc(out, func(a, b RiskCell) int { return cmp.Compare(a.Cell, b.Cell) })
	return out, nil
}

// knoxMaxRings bounds the disk searched around one incident (about 120,000 cells).
const knoxMaxRings = 200

// knoxRings is a ring count k such that every cell whose centre is within d metres of
// any point of origin is in GridDisk(origin, k). With centre spacing s (measured to
// origin's nearest neighbour), a point of the origin lies within s/√3 of its centre and
// cells k rings out have centres at least k·s·√3/2 from it on a regular hexagonal
// grid; 15% is added for H3's distortion over the distance.
func knoxRings(origin h3.Cell, d float64) int {
	oc := origin.LatLng()
	o := geo.LatLon{Lat: oc.Lat, Lon: oc.Lng}
	s := math.Inf(1)
	for _, nb := range origin.GridDisk(1) {
		if nb != origin {
			ll := nb.LatLng()
			s = min(s, geo.Distance(o, geo.LatLon{Lat: ll.Lat, Lon: ll.Lng}))
		}
	}
	return int((d+s/math.Sqrt(3))/(s*math.Sqrt(3)/2)*1.15) + 1
}

// NullReason says why a ratio of the table is not a number: no pairs were expected
// in its band cell.
func (t NearRepeatTable) NullReason(field string, index []int) string {
	if field == "Ratio" && len(index) == 2 && index[0] < len(t.Expected) && index[1] < len(t.Expected[index[0]]) &&
		t.Expected[index[0]][index[1]] == 0 {
		return "no pairs expected"
	}
	return ""
}
