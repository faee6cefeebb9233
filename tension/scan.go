package tension

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/uber/h3-go/v4"
	"golang.org/x/sync/errgroup"
)

// The prospective space-time permutation scan statistic of
//
//	M. Kulldorff, R. Heffernan, J. Hartman, R. Assunção, F. Mostashari (2005),
//	"A space-time permutation scan statistic for disease outbreak detection",
//	PLoS Medicine 2(3):e59,
//
// over H3 cells. It needs no population at risk: the expected count of a place and
// window comes from the data's own space and time margins, so what it flags is
// space-time interaction (a place whose share of recent cases is higher than its share
// of all cases), not a general rise everywhere or a place that is always busy.
//
// Cylinders are H3 disks GridDisk(centre, k), k = 0..MaxRadius, around every cell with
// cases, times windows of 1..MaxDays days that end on the analysis day (prospective: only
// clusters still going on are looked for). For a cylinder A with observed count c and
//
//	μ_A = Σ_{s∈A} Σ_{d∈A} N_s·N_d / N = N_zone · N_window / N
//
// (N_s cases in cell s over the study period, N_d cases on day d, N all cases), the
// log generalised likelihood ratio is (paper, eq. 2 in logs)
//
//	LLR = c·ln(c/μ) + (N−c)·ln((N−c)/(N−μ))   when c > μ, else 0.
//
// The most likely cluster maximises the LLR. Its p-value is Monte Carlo: each replicate
// shuffles the days of the individual cases among them, keeping their cells (so both
// margins, hence every μ, stay as they are), and takes the replicate's largest LLR;
// p = rank/(R+1) where rank counts the observed value among the R replicate maxima
// (ties count against the cluster).

// ScanCase is a count of incidents in one H3 cell on one day.
type ScanCase struct {
	Cell  uint64 // H3 cell index; every case of a scan has the same resolution
	Day   int    // day number on any fixed calendar (e.g. days since 1970-01-01), at most the analysis day
	Count int    // incidents, zero or more
}

// ScanOptions are the parameters of Scan. Every field is used as given (see
// DefaultScanOptions for sensible values); only Workers has a zero default.
type ScanOptions struct {
	// MaxRadius is the largest disk in H3 rings: 0 scans single cells, 3 disks of up to
	// 37 cells. At most 50.
	MaxRadius int
	// MaxDays is the longest time window in days (windows are 1..MaxDays days ending on
	// the analysis day), 1 to 366.
	MaxDays int
	// Replicates is the number of Monte Carlo permutations; 0 gives no p-values (NaN).
	// Use 999 or 9999 so that p-values are round.
	Replicates int
	// Seed makes the replicates reproducible: the same cases, options and seed give the
	// same result whatever the number of workers.
	Seed uint64
	// Workers is the number of goroutines running replicates; 0 uses runtime.GOMAXPROCS(0).
	Workers int
	// MaxSecondary is how many secondary clusters to report besides the most likely one.
	MaxSecondary int
}

// DefaultScanOptions returns disks of up to 3 rings, windows of up to 7 days, 999
// replicates, seed 1, all cores and up to 10 secondary clusters.
func DefaultScanOptions() ScanOptions {
	return ScanOptions{MaxRadius: 3, MaxDays: 7, Replicates: 999, Seed: 1, MaxSecondary: 10}
}

// Cluster is one space-time cylinder found by Scan.
type Cluster struct {
	// Center and Radius give the cylinder's base, the H3 disk GridDisk(Center, Radius);
	// Radius is the smallest radius giving this set of cells with cases.
	Center uint64
	Radius int
	// Cells are the cells of the disk that have cases in the study period, ascending:
	// the cells the statistic is made of (the other cells of the disk add nothing to
	// either the observed or the expected count).
	Cells []uint64
	// FirstDay and LastDay bound the time window (inclusive); LastDay is the analysis day.
	FirstDay, LastDay int
	// Observed is the number of cases in the cylinder, Expected the number expected from
	// the space and time margins (μ above).
	Observed int
	Expected float64
	// LLR is the log likelihood ratio (natural logarithm).
	LLR float64
	// P is the Monte Carlo p-value, rank/(Replicates+1), NaN without replicates. A
	// secondary cluster's p is against the same replicate maxima as the most likely
	// cluster's, as SaTScan does, which makes it conservative.
	P float64
	// RecurrenceDays is 1/P: with the scan run once a day, the number of days over which
	// one cluster at least this unlikely is expected by chance alone. NaN without replicates.
	RecurrenceDays float64
}

// Ratio returns Observed/Expected (the relative risk inside the cylinder).
func (c Cluster) Ratio() float64 { return float64(c.Observed) / c.Expected }

// ScanResult is the outcome of Scan.
type ScanResult struct {
	Cases      int // N, all cases of the study period
	Recent     int // cases in the last MaxDays days, the only ones a permutation moves into a window
	Cells      int // cells with cases
	Zones      int // distinct disks evaluated (centre and radius with a new set of cells)
	Replicates int
	// Clusters holds the most likely cluster first, then secondary clusters in
	// decreasing LLR that share no cell with any cluster before them (every window ends
	// on the analysis day, so any shared cell would be a shared cell-day). Empty when no
	// cylinder has more cases than expected.
	Clusters []Cluster
}

// Scan runs the prospective space-time permutation scan over cases up to analysisDay.
// The study period is the days the cases cover; cases with Count 0 are ignored.
// It returns an EINVALID *geo.Error when a cell is not a valid H3 cell, cells have
// different resolutions, a case is after analysisDay or has a negative count, there
// are more than 2³¹−1 cases, or an option is out of range.
func Scan(cases []ScanCase, analysisDay int, o ScanOptions) (ScanResult, error) {
	if o.MaxRadius < 0 || o.MaxRadius > 50 {
		return ScanResult{}, geo.Errorf(geo.EINVALID, "scan: MaxRadius %d is outside 0 to 50", o.MaxRadius)
	}
	if o.MaxDays < 1 || o.MaxDays > 366 {
		return ScanResult{}, geo.Errorf(geo.EINVALID, "scan: MaxDays %d is outside 1 to 366", o.MaxDays)
	}
	if o.Replicates < 0 || o.Workers < 0 || o.MaxSecondary < 0 {
		return ScanResult{}, geo.Errorf(geo.EINVALID, "scan: Replicates, Workers and MaxSecondary must not be negative")
	}
	m, err := newScanModel(cases, analysisDay, o)
	if err != nil {
		return ScanResult{}, err
	}
	res := ScanResult{Cases: m.n, Recent: len(m.labels), Cells: len(m.cells), Zones: m.zones, Replicates: o.Replicates}
	if m.n == 0 || len(m.labels) == 0 {
		return res, nil
	}

	// The observed data: units 0..len(labels)-1 are the recent cases, in label order.
	ev := m.newEvaluator()
	best := make([]scanBest, len(m.nz))
	obsMax := ev.eval(m.units[:len(m.labels)], m.labels, best)
	if obsMax <= 0 {
		return res, nil
	}
	picked := m.pickClusters(best, o.MaxSecondary)

	var maxima []float64
	if o.Replicates > 0 {
		maxima = m.replicates(o)
		slices.Sort(maxima)
	}
	for _, z := range picked {
		res.Clusters = append(res.Clusters, m.cluster(z, best[z], analysisDay, maxima))
	}
	return res, nil
}

// scanModel is everything about a scan that the permutations do not change.
type scanModel struct {
	k, d   int      // MaxRadius+1 radii, MaxDays windows
	n      int      // all cases
	cells  []uint64 // cells with cases, ascending
	ns     []int    // cases per cell
	units  []int32  // one entry per case: its cell; the recent cases first, matching labels
	labels []int32  // day offsets (analysis day − day) of the recent cases, 0..d-1
	nw     []int    // cases in the window of w+1 days, w = 0..d-1

	// Rings of each centre, as indexes of cells with cases: ring k of centre c is
	// ringCells[ringStart[c*k+r]:ringStart[c*k+r+1]].
	ringStart []int32
	ringCells []int32
	// For each cell, the blocks it belongs to: cell s is in ring r of centre c for each
	// entry base = (c*k + r)*d of memBase[memStart[s]:memStart[s+1]], with memCentre the c.
	memStart  []int32
	memBase   []int32
	memCentre []int32

	nz    []int     // cases in each zone (centre c, radius r) = index c*k + r
	dup   []bool    // zone has the same cells as the radius below it
	zones int       // zones that are not duplicates
	cyl   []scanCyl // per zone and window, index zone*d + w
	lnC   []float64 // c·ln c for c = 0..recent
	lnNC  []float64 // (N−c)·ln(N−c) for c = 0..recent
}

// scanCyl holds what a cylinder's LLR needs beyond its observed count.
type scanCyl struct {
	mu, lnMu, lnNMu float64 // μ, ln μ, ln(N−μ)
}

// scanBest is a zone's best window on the observed data.
type scanBest struct {
	llr float64 // as the replicates compute it (tabulated logs)
	w   int32   // window index, days−1
	c   int32
}

func newScanModel(cases []ScanCase, analysisDay int, o ScanOptions) (*scanModel, error) {
	m := &scanModel{k: o.MaxRadius + 1, d: o.MaxDays}
	res := -1
	perCell := make(map[uint64]int)
	recent := 0
	for i, c := range cases {
		if c.Count < 0 {
			return nil, geo.Errorf(geo.EINVALID, "scan: case %d has a negative count %d", i, c.Count)
		}
		if c.Day > analysisDay {
			return nil, geo.Errorf(geo.EINVALID, "scan: case %d is on day %d, after the analysis day %d", i, c.Day, analysisDay)
		}
		if c.Count == 0 {
			continue
		}
		if !h3.Cell(c.Cell).IsValid() {
			return nil, geo.Errorf(geo.EINVALID, "scan: case %d: %x is not an H3 cell", i, c.Cell)
		}
		if r := geo.CellRes(c.Cell); res < 0 {
			res = r
		} else if r != res {
			return nil, geo.Errorf(geo.EINVALID, "scan: case %d has a cell at resolution %d, others at %d", i, r, res)
		}
		if m.n+c.Count > math.MaxInt32 || m.n+c.Count < m.n {
			return nil, geo.Errorf(geo.EINVALID, "scan: more than %d cases", math.MaxInt32)
		}
		m.n += c.Count
		perCell[c.Cell] += c.Count
		if analysisDay-c.Day < m.d {
			recent += c.Count
		}
	}
	m.cells = make([]uint64, 0, len(perCell))
	for c := range perCell {
		m.cells = append(m.cells, c)
	}
	slices.Sort(m.cells)
	index := make(map[uint64]int32, len(m.cells))
	m.ns = make([]int, len(m.cells))
	for i, c := range m.cells {
		index[c] = int32(i)
		m.ns[i] = perCell[c]
	}

	// Units: the recent cases first, sorted by cell then offset (any fixed order would
	// do), then the older ones.
	m.units = make([]int32, 0, m.n)
	m.labels = make([]int32, 0, recent)
	m.nw = make([]int, m.d)
	type unitKey struct {
		cell int32
		off  int
	}
	var rec []unitKey
	for _, c := range cases {
		if c.Count == 0 {
			continue
		}
		ci := index[c.Cell]
		if off := analysisDay - c.Day; off < m.d {
			for range c.Count {
				rec = append(rec, unitKey{ci, off})
			}
			m.nw[off] += c.Count
		}
	}
	slices.SortFunc(rec, func(a, b unitKey) int {
		if a.cell != b.cell {
			return int(a.cell - b.cell)
		}
		return a.off - b.off
	})
	for _, u := range rec {
		m.units = append(m.units, u.cell)
		m.labels = append(m.labels, int32(u.off))
	}
	for _, c := range cases {
		if c.Count > 0 && analysisDay-c.Day >= m.d {
			ci := index[c.Cell]
			for range c.Count {
				m.units = append(m.units, ci)
			}
		}
	}
	for w := 1; w < m.d; w++ {
		m.nw[w] += m.nw[w-1]
	}

	m.buildZones(index)
	m.buildTables()
	return m, nil
}

// buildZones finds each centre's rings among the cells with cases, incrementally
// (disk r = disk r−1 ∪ ring r, from one GridDiskDistances call per centre), the cases in
// each zone, and the inverse lists the permutations walk.
func (m *scanModel) buildZones(index map[uint64]int32) {
	nc, k, d := len(m.cells), m.k, m.d
	m.ringStart = make([]int32, 1, nc*k+1)
	m.nz = make([]int, nc*k)
	m.dup = make([]bool, nc*k)
	count := make([]int32, nc) // memberships per cell
	for c, cell := range m.cells {
		rings := h3.GridDiskDistances(h3.Cell(cell), k-1)
		total := 0
		for r := range k {
			added := 0
			if r < len(rings) {
				for _, nb := range rings[r] {
					if s, ok := index[uint64(nb)]; ok {
						m.ringCells = append(m.ringCells, s)
						count[s]++
						total += m.ns[s]
						added++
					}
				}
			}
			m.ringStart = append(m.ringStart, int32(len(m.ringCells)))
			m.nz[c*k+r] = total
			m.dup[c*k+r] = r > 0 && added == 0
			if !m.dup[c*k+r] {
				m.zones++
			}
		}
	}
	m.memStart = make([]int32, nc+1)
	for s := range nc {
		m.memStart[s+1] = m.memStart[s] + count[s]
	}
	m.memBase = make([]int32, len(m.ringCells))
	m.memCentre = make([]int32, len(m.ringCells))
	next := slices.Clone(m.memStart[:nc])
	for c := range nc {
		for r := range k {
			z := c*k + r
			for _, s := range m.ringCells[m.ringStart[z]:m.ringStart[z+1]] {
				m.memBase[next[s]] = int32(z * d)
				m.memCentre[next[s]] = int32(c)
				next[s]++
			}
		}
	}
}

// buildTables computes μ, ln μ and ln(N−μ) of every cylinder and the c·ln c and
// (N−c)·ln(N−c) tables, so that a replicate's LLR needs no logarithm.
func (m *scanModel) buildTables() {
	n := float64(m.n)
	m.cyl = make([]scanCyl, len(m.nz)*m.d)
	for z, nz := range m.nz {
		for w := range m.d {
			mu := float64(nz) * float64(m.nw[w]) / n
			m.cyl[z*m.d+w] = scanCyl{mu: mu, lnMu: math.Log(mu), lnNMu: math.Log(n - mu)}
		}
	}
	recent := len(m.labels)
	m.lnC = make([]float64, recent+1)
	m.lnNC = make([]float64, recent+1)
	for c := 0; c <= recent; c++ {
		m.lnC[c] = scanXLogX(float64(c))
		m.lnNC[c] = scanXLogX(n - float64(c))
	}
}

// scanXLogX is x·ln x with 0·ln 0 = 0.
func scanXLogX(x float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(x)
}

// scanLLR is the log likelihood ratio of a cylinder with c observed and mu expected
// cases out of n, computed directly (not from tables): the value Scan reports.
func scanLLR(c, mu, n float64) float64 {
	if !(c > mu) {
		return 0
	}
	llr := c * math.Log(c/mu)
	if n > c {
		llr += (n - c) * math.Log((n-c)/(n-mu))
	}
	return llr
}

// scanEvaluator holds one goroutine's buffers.
type scanEvaluator struct {
	m       *scanModel
	cnt     []int32  // per zone and window offset: cases
	stamp   []uint32 // per centre: the evaluation that last touched it
	cur     uint32
	touched []int32
}

func (m *scanModel) newEvaluator() *scanEvaluator {
	return &scanEvaluator{
		m:     m,
		cnt:   make([]int32, len(m.nz)*m.d),
		stamp: make([]uint32, len(m.cells)),
	}
}

// eval places recent cases on cells (the i-th case on cell units[i] at offset
// labels[i]) and returns the largest LLR over all cylinders. With best non-nil it also
// records each zone's best window.
func (e *scanEvaluator) eval(units []int32, labels []int32, best []scanBest) float64 {
	m := e.m
	e.cur++
	if e.cur == 0 { // wrapped: clear the stamps
		clear(e.stamp)
		e.cur = 1
	}
	e.touched = e.touched[:0]
	for i, s := range units {
		off := int32(labels[i])
		lo, hi := m.memStart[s], m.memStart[s+1]
		bases, centres := m.memBase[lo:hi], m.memCentre[lo:hi]
		for j, base := range bases {
			c := centres[j]
			if e.stamp[c] != e.cur {
				e.stamp[c] = e.cur
				e.touched = append(e.touched, c)
			}
			e.cnt[base+off]++
		}
	}
	k, d := m.k, m.d
	n := m.n
	top := 0.0
	for _, c := range e.touched {
		block := e.cnt[int(c)*k*d : (int(c)+1)*k*d]
		// Cumulate over window offsets (a window of w+1 days holds offsets 0..w), then
		// over radii (disk r holds rings 0..r).
		for r := range k {
			row := block[r*d : (r+1)*d]
			for w := 1; w < d; w++ {
				row[w] += row[w-1]
			}
			if r > 0 {
				prev := block[(r-1)*d : r*d]
				for w := range d {
					row[w] += prev[w]
				}
			}
		}
		for r := range k {
			z := int(c)*k + r
			if m.dup[z] {
				continue
			}
			row := block[r*d : (r+1)*d]
			cyl := m.cyl[z*d : (z+1)*d]
			for w, cw := range row {
				if cw == 0 || float64(cw) <= cyl[w].mu {
					continue
				}
				llr := m.lnC[cw] - float64(cw)*cyl[w].lnMu + m.lnNC[cw] - float64(n-int(cw))*cyl[w].lnNMu
				if llr > top {
					top = llr
				}
				if best != nil && llr > best[z].llr {
					best[z] = scanBest{llr: llr, w: int32(w), c: cw}
				}
			}
		}
		clear(block)
	}
	return top
}

// pickClusters returns the zones of the most likely cluster and of up to maxSecondary
// secondary clusters: zones by decreasing LLR, each sharing no cell with those before it.
func (m *scanModel) pickClusters(best []scanBest, maxSecondary int) []int {
	var order []int
	for z, b := range best {
		if b.llr > 0 {
			order = append(order, z)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return best[order[i]].llr > best[order[j]].llr })
	used := make([]bool, len(m.cells))
	var picked []int
	for _, z := range order {
		if len(picked) > maxSecondary {
			break
		}
		c, r := z/m.k, z%m.k
		cells := m.ringCells[m.ringStart[c*m.k]:m.ringStart[c*m.k+r+1]]
		if slices.ContainsFunc(cells, func(s int32) bool { return used[s] }) {
			continue
		}
		for _, s := range cells {
			used[s] = true
		}
		picked = append(picked, z)
	}
	return picked
}

// cluster describes zone z with its best window; maxima are the sorted replicate maxima.
func (m *scanModel) cluster(z int, b scanBest, analysisDay int, maxima []float64) Cluster {
	c, r := z/m.k, z%m.k
	idx := m.ringCells[m.ringStart[c*m.k]:m.ringStart[c*m.k+r+1]]
	cells := make([]uint64, len(idx))
	for i, s := range idx {
		cells[i] = m.cells[s]
	}
	slices.Sort(cells)
	mu := m.cyl[z*m.d+int(b.w)].mu
	cl := Cluster{
		Center: m.cells[c], Radius: r, Cells: cells,
		FirstDay: analysisDay - int(b.w), LastDay: analysisDay,
		Observed: int(b.c), Expected: mu,
		LLR: scanLLR(float64(b.c), mu, float64(m.n)),
		P:   math.NaN(), RecurrenceDays: math.NaN(),
	}
	if len(maxima) > 0 {
		// Replicate maxima at least the observed value (both computed the same way).
		ge := len(maxima) - sort.SearchFloat64s(maxima, b.llr)
		cl.P = float64(ge+1) / float64(len(maxima)+1)
		cl.RecurrenceDays = 1 / cl.P
	}
	return cl
}

// replicates runs o.Replicates permutations on o.Workers goroutines and returns each
// one's largest LLR. Replicate i draws from its own ChaCha8 stream keyed by the seed
// and i, so the result does not depend on the number of workers.
func (m *scanModel) replicates(o ScanOptions) []float64 {
	workers := o.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, o.Replicates))
	maxima := make([]float64, o.Replicates)
	// Each replicate borrows a worker's state (its evaluator and buffers) from
	// the pool; at most workers run at once.
	type state struct {
		ev    *scanEvaluator
		units []int32
		swaps []int32
		src   *rand.ChaCha8
		rng   *rand.Rand
	}
	pool := make(chan *state, workers)
	for range workers {
		src := rand.NewChaCha8([32]byte{})
		pool <- &state{ev: m.newEvaluator(), units: slices.Clone(m.units), swaps: make([]int32, len(m.labels)), src: src, rng: rand.New(src)}
	}
	var g errgroup.Group
	g.SetLimit(workers)
	for i := range o.Replicates {
		goRecover(&g, func() error {
			st := <-pool
			defer func() { pool <- st }()
			units, swaps, rng := st.units, st.swaps, st.rng
			nu := len(units)
			st.src.Seed(scanSeedKey(o.Seed, uint64(i)))
			// Partial Fisher-Yates: a uniformly random ordered choice of cases to
			// receive the recent days, which is what a uniform shuffle of all days
			// gives the recent days.
			for j := range swaps {
				s := j + rng.IntN(nu-j)
				units[j], units[s] = units[s], units[j]
				swaps[j] = int32(s)
			}
			maxima[i] = st.ev.eval(units[:len(swaps)], m.labels, nil)
			for j := len(swaps) - 1; j >= 0; j-- {
				s := swaps[j]
				units[j], units[s] = units[s], units[j]
			}
			return nil
		})
	}
	waitOrPanic(&g)
	return maxima
}

// scanSeedKey is the ChaCha8 key of one replicate.
func scanSeedKey(seed, replicate uint64) [32]byte {
	var key [32]byte
	copy(key[:16], "tensionmap scan\x00")
	binary.LittleEndian.PutUint64(key[16:], seed)
	binary.LittleEndian.PutUint64(key[24:], replicate)
	return key
}
