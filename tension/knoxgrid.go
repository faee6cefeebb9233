package tension

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// The near-repeat counts without a list of pairs.
//
// A pair's distance band never changes under the permutation of days; only its time
// difference does. Listing the pairs within the largest distance once and walking the
// list in every replicate costs memory and time in proportion to those pairs, which
// grow with the square of the events in a town (178 million pairs within 500 m among
// 200,000 incidents of a year). The counts here walk a space-time index instead:
//
//   - Places go into square grid cells of side 1/k of the largest distance (a little
//     more, for rounding; k from 1 to 4, finer where places are dense), so the two
//     events of a pair within that distance lie in cells at most k apart each way,
//     and cells whose nearest corners are too far apart are left out (77 cells of
//     the 9×9 square around a cell are visited at k = 4, all 9 of 3×3 at k = 1).
//   - In every replicate the events of each cell are ordered by their (permuted) day,
//     by a counting sort. Each cell meets the events of all its later neighbouring
//     cells at once, gathered in order of day by another counting sort (knoxUnion):
//     an event's partners in each time band are then a run of them, found by the
//     first index of their days, so neither a window per cell nor a pair's
//     difference of days is looked up. Only those candidates have their distance
//     measured. Where the days span far more than the events, the cells are met one
//     by one, with two pointers that move forward.
//   - Places holding knoxHeavySite events or more (a shop, a school, a station) are
//     kept whole: the pairs within such a place are all at distance 0 and are counted
//     from its sorted days; its pairs with another event or place share one distance,
//     measured once, and are counted by binary search or by merging sorted days.
//
// So a replicate costs O(n) plus the candidates near in space and time, not the pairs
// near in space. The memory is O(n) whatever the data: per event about 24 bytes in
// the grid and 28 in each worker's layout, per occupied cell and per heavy place its
// neighbouring cells (at most 77 each), and a counting array over the span of days
// (sorted by comparison when the span passes 4n + 4096). No list of pairs is kept,
// not even of heavy places. The counts are exact: the distance is computed as before
// (sqrt of (0 + dx²) + dy², no fused multiply-add) and compared with each band's
// bound through the largest square whose root is within the bound.
//
// What still grows with the square is the candidates themselves where many distinct
// places lie within the largest distance and time band of one another: every such
// pair has its own distance, and an exact table needs it.

// knoxHeavySite is the number of events at one place from which the place is
// counted whole rather than event by event.
const knoxHeavySite = 32

// knoxGridSplit is the most grid cells across the largest distance. Finer cells
// measure fewer pairs beyond the distance but visit more cells per event: where the
// cells of the largest distance hold few events, coarser cells are quicker (see
// newKnoxGrid).
const knoxGridSplit = 4

// knoxGrid is the fixed, spatial part of the counts: the events' places in grid
// cells, the neighbouring cells, and the distance bands.
type knoxGrid struct {
	n int
	// sq[k] is the largest float64 s with math.Sqrt(s) <= bounds[k]: a pair is in band
	// k or nearer when its squared distance dx² + dy² (each square rounded first, no
	// fused multiply-add, as R's dist() computes it) is at most
	// sq[k]. smax is the last.
	sq   []float64
	smax float64
	// bands looks the band up without comparisons: see knoxBandTable.
	bands knoxBandTable

	// Light events (at places with fewer than heavy events), grouped by cell: slot s
	// is event lightEv[s] at (lx[s], ly[s]) in cell lcell[s]; the slots of cell c are
	// cellStart[c] to cellStart[c+1].
	lightEv   []int32
	lx, ly    []float64
	lcell     []int32
	cellStart []int32
	// fwd[fwdStart[c]:fwdStart[c+1]] are the cells after c (in the half of the
	// neighbourhood that takes each pair of cells once) that hold light events.
	fwd, fwdStart []int32

	// Heavy places: place h is at (hx[h], hy[h]) and holds events
	// hEv[hStart[h]:hStart[h+1]]; hReach[hReachStart[h]:hReachStart[h+1]] are the
	// occupied cells of its neighbourhood (at most 77), and cellHeavy[c] to
	// cellHeavy[c+1] the heavy places of cell c. Pairs of heavy places are found
	// through the cells, not listed: their number could grow with the square.
	hx, hy              []float64
	hEv, hStart         []int32
	hReach, hReachStart []int32
	cellHeavy           []int32
	heavyEvents         int
	cells               int
	// perCell counts each neighbouring cell with a window of its own, as the grid
	// did before the union of cells (for the tests and the benchmark).
	perCell bool
}

// knoxSquares returns, for each bound, the largest float64 whose square root is at
// most the bound.
func knoxSquares(bounds []float64) []float64 {
	sq := make([]float64, len(bounds))
	for k, b := range bounds {
		s := b * b
		for math.Sqrt(s) > b {
			s = math.Nextafter(s, 0)
		}
		for {
			next := math.Nextafter(s, math.Inf(1))
			if math.IsInf(next, 1) || math.Sqrt(next) > b {
				break
			}
			s = next
		}
		sq[k] = s
	}
	return sq
}

// knoxTuning changes how the grid counts, not what: the zero value is the default.
type knoxTuning struct {
	// heavy is the number of events at one place from which it is counted whole
	// (0: knoxHeavySite); split the number of cells across the largest distance (0:
	// chosen by the density of places, at most knoxGridSplit).
	heavy, split int
	// perCell: see knoxGrid.perCell.
	perCell bool
	// pairs: 1 counts the near repeats by the list of pairs whatever its size, -1
	// by the grid, 0 as useKnoxPairs chooses.
	pairs int
}

// newKnoxGrid indexes events for counts by the distance bounds (ascending, the
// last the largest).
func newKnoxGrid(events []KnoxEvent, bounds []float64, tune knoxTuning) *knoxGrid {
	heavy, split := tune.heavy, tune.split
	if heavy <= 0 {
		heavy = knoxHeavySite
	}
	g := &knoxGrid{n: len(events), sq: knoxSquares(bounds), perCell: tune.perCell}
	g.smax = g.sq[len(g.sq)-1]
	g.bands = newKnoxBandTable(g.sq)
	dmax := bounds[len(bounds)-1]

	// Places: events at the same coordinates.
	type place struct {
		x, y   float64
		events []int32
	}
	byXY := make(map[[2]float64]int32, len(events))
	var places []place
	for i, e := range events {
		k := [2]float64{e.X, e.Y}
		p, ok := byXY[k]
		if !ok {
			p = int32(len(places))
			byXY[k] = p
			places = append(places, place{x: e.X, y: e.Y})
		}
		places[p].events = append(places[p].events, int32(i))
	}
	byXY = nil

	// The grid: side such that a pair within dmax is at most k cells apart in each
	// direction despite rounding in the cell computation (a few units in the last
	// place of the extent r), with cell numbers well inside int64.
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range places {
		minX, maxX = min(minX, p.x), max(maxX, p.x)
		minY, maxY = min(minY, p.y), max(maxY, p.y)
	}
	r := max(maxX-minX, maxY-minY)
	if split <= 0 {
		// About 0.18·√m cells across, for m places per occupied square of the largest
		// distance: on a year of the demo town, 1 at 20,000 incidents and 4 at
		// 200,000 measured quickest.
		split = 1
		if side := dmax*(1+0x1p-40) + r*0x1p-46; side > 0 && !math.IsInf(side, 0) {
			squares := map[[2]int64]struct{}{}
			for _, p := range places {
				squares[[2]int64{int64(math.Floor((p.x - minX) / side)), int64(math.Floor((p.y - minY) / side))}] = struct{}{}
			}
			m := float64(len(places)) / float64(len(squares))
			split = max(1, min(knoxGridSplit, int(0.18*math.Sqrt(m)+0.5)))
		}
	}
	k := int64(split)
	side := (dmax*(1+0x1p-40) + r*0x1p-46) / float64(k)
	slack := r * 0x1p-48
	if dmax == 0 {
		// Only places at the same coordinates pair: they share a cell whatever its side.
		k, side = 0, max(r, 1)*0x1p-20
	}
	single := !(side > 0) || math.IsInf(side, 0) || math.IsInf(r, 0)
	cellOf := func(x, y float64) [2]int64 {
		if single {
			return [2]int64{}
		}
		return [2]int64{int64(math.Floor((x - minX) / side)), int64(math.Floor((y - minY) / side))}
	}
	if single {
		k = 0
	}
	// The offsets of the cells that may hold a point within dmax of a point of the
	// centre cell: the nearest points of the two cells are (|o|−1)·side apart in each
	// direction, less the rounding slack.
	gap := func(o int64) float64 {
		if o < 0 {
			o = -o
		}
		return max(0, float64(o-1)*side-slack)
	}
	var offsets [][2]int64
	for oy := -k; oy <= k; oy++ {
		for ox := -k; ox <= k; ox++ {
			if gx, gy := gap(ox), gap(oy); gx*gx+gy*gy <= dmax*dmax*(1+1e-9) {
				offsets = append(offsets, [2]int64{ox, oy})
			}
		}
	}

	// Cells in order of (y, x), each with its light events and its heavy places.
	type located struct {
		cell [2]int64
		p    int32
	}
	loc := make([]located, len(places))
	for i, p := range places {
		loc[i] = located{cellOf(p.x, p.y), int32(i)}
	}
	slices.SortFunc(loc, func(a, b located) int {
		if a.cell[1] != b.cell[1] {
			return cmpInt64(a.cell[1], b.cell[1])
		}
		if a.cell[0] != b.cell[0] {
			return cmpInt64(a.cell[0], b.cell[0])
		}
		return int(a.p - b.p)
	})
	cellIndex := map[[2]int64]int32{}
	var cellKeys [][2]int64
	heavyCell := []int32{}
	g.cellStart = []int32{0}
	for _, l := range loc {
		c, ok := cellIndex[l.cell]
		if !ok {
			c = int32(len(cellKeys))
			cellIndex[l.cell] = c
			cellKeys = append(cellKeys, l.cell)
			g.cellStart = append(g.cellStart, g.cellStart[len(g.cellStart)-1])
		}
		p := places[l.p]
		if len(p.events) >= heavy {
			g.hx, g.hy = append(g.hx, p.x), append(g.hy, p.y)
			if len(g.hStart) == 0 {
				g.hStart = append(g.hStart, 0)
			}
			g.hEv = append(g.hEv, p.events...)
			g.hStart = append(g.hStart, int32(len(g.hEv)))
			heavyCell = append(heavyCell, c)
			continue
		}
		for _, e := range p.events {
			g.lightEv = append(g.lightEv, e)
			g.lx, g.ly = append(g.lx, p.x), append(g.ly, p.y)
			g.lcell = append(g.lcell, c)
		}
		g.cellStart[c+1] = int32(len(g.lightEv))
	}
	if len(g.hStart) == 0 {
		g.hStart = []int32{0}
	}
	g.cells = len(cellKeys)
	g.heavyEvents = len(g.hEv)
	places = nil

	// The neighbouring cells.
	g.fwdStart = make([]int32, g.cells+1)
	for c, key := range cellKeys {
		if g.cellStart[c] != g.cellStart[c+1] {
			for _, o := range offsets {
				if o[1] < 0 || (o[1] == 0 && o[0] <= 0) {
					continue
				}
				if d, ok := cellIndex[[2]int64{key[0] + o[0], key[1] + o[1]}]; ok && g.cellStart[d] != g.cellStart[d+1] {
					g.fwd = append(g.fwd, d)
				}
			}
		}
		g.fwdStart[c+1] = int32(len(g.fwd))
	}
	// Heavy places are numbered in order of cell: those of cell c are
	// cellHeavy[c] to cellHeavy[c+1].
	g.cellHeavy = make([]int32, g.cells+1)
	for _, c := range heavyCell {
		g.cellHeavy[c+1]++
	}
	for c := range g.cells {
		g.cellHeavy[c+1] += g.cellHeavy[c]
	}
	g.hReachStart = []int32{0}
	for _, c := range heavyCell {
		key := cellKeys[c]
		for _, o := range offsets {
			if d, ok := cellIndex[[2]int64{key[0] + o[0], key[1] + o[1]}]; ok {
				g.hReach = append(g.hReach, d)
			}
		}
		g.hReachStart = append(g.hReachStart, int32(len(g.hReach)))
	}
	return g
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// knoxTimes are the time bands of the counts: bounds ascending, and col[dt] the band
// of a difference of dt days up to the last bound.
type knoxTimes struct {
	bounds []int
	col    []int32
	last   int
}

// newKnoxTimes returns the time bands of bounds for days at most span apart: a
// last bound beyond the span counts as the span, so the table stays as short as the
// days allow.
func newKnoxTimes(bounds []int, span int) knoxTimes {
	last := min(bounds[len(bounds)-1], max(span, 0))
	t := knoxTimes{bounds: bounds, last: last, col: make([]int32, last+1)}
	for d := range t.col {
		j, _ := slices.BinarySearch(bounds, d)
		t.col[d] = int32(j)
	}
	return t
}

// knoxLayout is one assignment of days to the events, laid out for counting: the
// light events of each cell by day, and the days of each heavy place sorted.
type knoxLayout struct {
	xs, ys []float64
	ds     []int
	lo, hi int // the earliest and latest day of the light events
	hd     []int
	// scratch for the counting sort
	order, cursor []int32
	byDay         []int32
}

// knoxSortSpan is the largest span of days sorted by counting; wider spans are
// sorted by comparison.
func knoxSortSpan(n int) int { return 4*n + 4096 }

// lay orders the events by cell and day for the days given (one per event).
func (g *knoxGrid) lay(l *knoxLayout, days []int) {
	nl := len(g.lightEv)
	if l.cursor == nil {
		l.xs, l.ys, l.ds = make([]float64, nl), make([]float64, nl), make([]int, nl)
		l.order = make([]int32, nl)
		l.cursor = make([]int32, g.cells)
		l.hd = make([]int, g.heavyEvents)
	}
	lo, hi := math.MaxInt, math.MinInt
	for _, e := range g.lightEv {
		lo, hi = min(lo, days[e]), max(hi, days[e])
	}
	l.lo, l.hi = lo, hi
	if nl > 0 && hi-lo <= knoxSortSpan(nl) {
		// A stable counting sort of the slots by day, then a stable distribution by
		// cell: each cell's slots in order of day.
		span := hi - lo + 1
		if cap(l.byDay) < span+1 {
			l.byDay = make([]int32, span+1)
		}
		cnt := l.byDay[:span+1]
		clear(cnt)
		for _, e := range g.lightEv {
			cnt[days[e]-lo+1]++
		}
		for d := 1; d <= span; d++ {
			cnt[d] += cnt[d-1]
		}
		for s, e := range g.lightEv {
			d := days[e] - lo
			l.order[cnt[d]] = int32(s)
			cnt[d]++
		}
		copy(l.cursor, g.cellStart[:g.cells])
		for _, s := range l.order {
			c := g.lcell[s]
			p := l.cursor[c]
			l.cursor[c]++
			l.xs[p], l.ys[p], l.ds[p] = g.lx[s], g.ly[s], days[g.lightEv[s]]
		}
	} else {
		for s := range g.lightEv {
			l.order[s] = int32(s)
		}
		for c := range g.cells {
			seg := l.order[g.cellStart[c]:g.cellStart[c+1]]
			slices.SortStableFunc(seg, func(a, b int32) int { return days[g.lightEv[a]] - days[g.lightEv[b]] })
		}
		for p, s := range l.order {
			l.xs[p], l.ys[p], l.ds[p] = g.lx[s], g.ly[s], days[g.lightEv[s]]
		}
	}
	for i, e := range g.hEv {
		l.hd[i] = days[e]
	}
	for h := range len(g.hStart) - 1 {
		slices.Sort(l.hd[g.hStart[h]:g.hStart[h+1]])
	}
}

// count adds to cnt (indexed band·len(t.bounds) + time band, for the bands within the
// last bounds) the pairs of the light cells [c0, c1) with their own and the later
// neighbouring cells, and the pairs of the heavy places [h0, h1) with themselves,
// every light event and the later heavy places.
func (g *knoxGrid) count(l *knoxLayout, t *knoxTimes, cnt []int, c0, c1, h0, h1 int) {
	nt := len(t.bounds)
	T := t.last
	col := t.col
	sq, smax := g.sq, g.smax
	xs, ys, ds := l.xs, l.ys, l.ds
	// The light pairs go to acc, indexed ((band·nt + time band)·4 + lane), the band
	// len(sq) taking the pairs beyond the last bound: the band is counted without a
	// branch, and four lanes keep consecutive increments off the same counter.
	acc := make([]int, (len(sq)+1)*nt*4)
	var u knoxUnion
	for c := c0; c < c1; c++ {
		a0, a1 := int(g.cellStart[c]), int(g.cellStart[c+1])
		if a0 == a1 {
			continue
		}
		knoxSelf(xs[a0:a1], ys[a0:a1], ds[a0:a1], &g.bands, col, nt, T, acc)
		nb := g.fwd[g.fwdStart[c]:g.fwdStart[c+1]]
		if !g.perCell && len(nb) > 1 && u.gather(g, l, nb) {
			// The later neighbouring cells' events together, by day.
			u.cross(xs[a0:a1], ys[a0:a1], ds[a0:a1], &g.bands, t, acc)
			continue
		}
		for _, d := range nb {
			b0, b1 := int(g.cellStart[d]), int(g.cellStart[d+1])
			knoxCross(xs[a0:a1], ys[a0:a1], ds[a0:a1], xs[b0:b1], ys[b0:b1], ds[b0:b1], &g.bands, col, nt, T, acc)
		}
	}
	for k := range len(sq) * nt {
		cnt[k] += acc[4*k] + acc[4*k+1] + acc[4*k+2] + acc[4*k+3]
	}
	within := make([]int, nt)
	var first []int32 // first[d − hd[0]]: the index of the place's first day d or later
	for h := h0; h < h1; h++ {
		hd := l.hd[g.hStart[h]:g.hStart[h+1]]
		// Where the place's days span little, the events on or after a day are found
		// in a table of first indices, else by binary search.
		hlo, hspan := hd[0], hd[len(hd)-1]-hd[0]+1
		table := hspan <= 4*len(hd)+4096
		if table {
			if cap(first) < hspan+1 {
				first = make([]int32, hspan+1)
			}
			first = first[:hspan+1]
			i := 0
			for d := range first {
				for i < len(hd) && hd[i]-hlo < d {
					i++
				}
				first[d] = int32(i)
			}
		}
		at := func(d int) int {
			if table {
				return int(first[min(max(d, hlo), hlo+hspan)-hlo])
			}
			i, _ := slices.BinarySearch(hd, d)
			return i
		}
		// Within the place: distance 0, the first band.
		for j, tb := range t.bounds {
			within[j] = knoxSortedWithin(hd, tb)
		}
		knoxAddCumulative(cnt[:nt], within)
		// With the light events of the neighbouring cells.
		x, y := g.hx[h], g.hy[h]
		reach := g.hReach[g.hReachStart[h]:g.hReachStart[h+1]]
		for _, d := range reach {
			for q := int(g.cellStart[d]); q < int(g.cellStart[d+1]); q++ {
				dx, dy := x-xs[q], y-ys[q]
				s := float64(dx*dx) + float64(dy*dy)
				if s > smax {
					continue
				}
				b := 0
				for s > sq[b] {
					b++
				}
				dq := ds[q]
				for j, tb := range t.bounds {
					within[j] = at(dq+tb+1) - at(dq-tb)
				}
				knoxAddCumulative(cnt[b*nt:(b+1)*nt], within)
			}
		}
		// With the later heavy places of the neighbouring cells.
		for _, d := range reach {
			for h2 := max(h+1, int(g.cellHeavy[d])); h2 < int(g.cellHeavy[d+1]); h2++ {
				dx, dy := x-g.hx[h2], y-g.hy[h2]
				s := float64(dx*dx) + float64(dy*dy)
				if s > smax {
					continue
				}
				b := 0
				for s > sq[b] {
					b++
				}
				hd2 := l.hd[g.hStart[h2]:g.hStart[h2+1]]
				for j, tb := range t.bounds {
					within[j] = knoxSortedCross(hd, hd2, tb)
				}
				knoxAddCumulative(cnt[b*nt:(b+1)*nt], within)
			}
		}
	}
}

// knoxUnion is the light events of several cells together, ordered by day: one
// window over them finds an event's candidates in all the cells at once, where a
// window per cell costs a search per cell and event.
type knoxUnion struct {
	xy  []float64 // event k at (xy[2k], xy[2k+1])
	cnt []int32
	// start[d − lo] is the first event on day d or later, for d from lo to hi+1.
	start  []int32
	lo, hi int
}

// gather lays out the light events of the cells nb together by day, by a counting
// sort over the layout's span of days; it returns false, leaving the cells to be
// counted one by one, when the span is wide for the events (the counts would cost
// more than the window searches they save).
func (u *knoxUnion) gather(g *knoxGrid, l *knoxLayout, nb []int32) bool {
	n := 0
	for _, d := range nb {
		n += int(g.cellStart[d+1] - g.cellStart[d])
	}
	span := l.hi - l.lo + 1
	if n == 0 || span > 8*n+512 {
		return false
	}
	if cap(u.cnt) < span+1 {
		u.cnt = make([]int32, span+1)
	}
	cnt := u.cnt[:span+1]
	clear(cnt)
	for _, d := range nb {
		for _, day := range l.ds[g.cellStart[d]:g.cellStart[d+1]] {
			cnt[day-l.lo+1]++
		}
	}
	for d := 1; d <= span; d++ {
		cnt[d] += cnt[d-1]
	}
	if cap(u.xy) < 2*n {
		u.xy = make([]float64, 2*n, 4*n)
	}
	u.xy = u.xy[:2*n]
	if cap(u.start) < span+1 {
		u.start = make([]int32, span+1)
	}
	u.start = u.start[:span+1]
	copy(u.start, cnt)
	u.lo, u.hi = l.lo, l.hi
	for _, d := range nb {
		for q := g.cellStart[d]; q < g.cellStart[d+1]; q++ {
			day := l.ds[q]
			p := cnt[day-l.lo]
			cnt[day-l.lo]++
			u.xy[2*p], u.xy[2*p+1] = l.xs[q], l.ys[q]
		}
	}
	return true
}

// at is the index of the first event of the union on day d or later.
func (u *knoxUnion) at(d int) int {
	return int(u.start[min(max(d, u.lo), u.hi+1)-u.lo])
}

// cross adds to acc (see count) the pairs of an event of xa, ya, da and one of the
// union at most t.last days apart. The union's events of each time band either side
// of an event's day are found by their days' first indices, so the band of a pair is
// known without its difference of days.
func (u *knoxUnion) cross(xa, ya []float64, da []int, bt *knoxBandTable, t *knoxTimes, acc []int) {
	nt := len(t.bounds)
	for p := range da {
		xi, yi, di := xa[p], ya[p], da[p]
		near := 0 // the differences of days of band j are near to far
		for j, far := range t.bounds {
			far = min(far, t.last)
			if near > far {
				break
			}
			row := acc[j<<2:]
			if near == 0 {
				knoxRange(xi, yi, u.xy[2*u.at(di-far):2*u.at(di+far+1)], bt, nt, row)
			} else {
				knoxRange(xi, yi, u.xy[2*u.at(di-far):2*u.at(di-near+1)], bt, nt, row)
				knoxRange(xi, yi, u.xy[2*u.at(di+near):2*u.at(di+far+1)], bt, nt, row)
			}
			near = far + 1
		}
	}
}

// knoxRange adds to row[(band·nt)·4 + lane] the pairs of the point (xi, yi) with the
// points of xy (x, y in turn). Four points at a time, each to its own lane, so that
// their work overlaps.
func knoxRange(xi, yi float64, xy []float64, bt *knoxBandTable, nt int, row []int) {
	stride := nt << 2
	tab, scale, last := bt.tab, bt.scale, bt.last
	k := 0
	for ; k+7 < len(xy); k += 8 {
		dx0, dy0 := xi-xy[k], yi-xy[k+1]
		dx1, dy1 := xi-xy[k+2], yi-xy[k+3]
		dx2, dy2 := xi-xy[k+4], yi-xy[k+5]
		dx3, dy3 := xi-xy[k+6], yi-xy[k+7]
		s0 := float64(dx0*dx0) + float64(dy0*dy0)
		s1 := float64(dx1*dx1) + float64(dy1*dy1)
		s2 := float64(dx2*dx2) + float64(dy2*dy2)
		s3 := float64(dx3*dx3) + float64(dy3*dy3)
		b0 := int(tab[int(min(s0*scale, last))])
		b1 := int(tab[int(min(s1*scale, last))])
		b2 := int(tab[int(min(s2*scale, last))])
		b3 := int(tab[int(min(s3*scale, last))])
		if max(b0, b1, b2, b3) == knoxBandEdge {
			if b0 == knoxBandEdge {
				b0 = bt.slow(s0)
			}
			if b1 == knoxBandEdge {
				b1 = bt.slow(s1)
			}
			if b2 == knoxBandEdge {
				b2 = bt.slow(s2)
			}
			if b3 == knoxBandEdge {
				b3 = bt.slow(s3)
			}
		}
		row[b0*stride]++
		row[b1*stride+1]++
		row[b2*stride+2]++
		row[b3*stride+3]++
	}
	for ; k+1 < len(xy); k += 2 {
		dx, dy := xi-xy[k], yi-xy[k+1]
		row[bt.band(float64(dx*dx)+float64(dy*dy))*stride|(k>>1)&3]++
	}
}

// knoxAddCumulative adds to row the pairs per time band, given the pairs within each
// bound (cumulative).
func knoxAddCumulative(row, within []int) {
	prev := 0
	for j, w := range within {
		row[j] += w - prev
		prev = w
	}
}

// knoxSortedWithin counts the pairs of the sorted days at most t apart.
func knoxSortedWithin(s []int, t int) int {
	count, lo := 0, 0
	for hi := range s {
		for s[hi]-s[lo] > t {
			lo++
		}
		count += hi - lo
	}
	return count
}

// knoxSortedCross counts the pairs, one day from a and one from b (both sorted), at
// most t apart.
func knoxSortedCross(a, b []int, t int) int {
	count, lo, hi := 0, 0, 0
	for _, x := range a {
		for lo < len(b) && b[lo] < x-t {
			lo++
		}
		if hi < lo {
			hi = lo
		}
		for hi < len(b) && b[hi] <= x+t {
			hi++
		}
		count += hi - lo
	}
	return count
}

// countAll counts with the layout's days on up to workers goroutines, splitting the
// cells and heavy places into chunks.
func (g *knoxGrid) countAll(l *knoxLayout, t *knoxTimes, nd, workers int) []int {
	nt := len(t.bounds)
	total := make([]int, nd*nt)
	const chunk = 64
	chunks := (g.cells + chunk - 1) / chunk
	heavy := len(g.hStart) - 1
	hchunks := (heavy + chunk - 1) / chunk
	var next atomic.Int64
	var mu sync.Mutex
	var eg errgroup.Group
	for range max(1, workers) {
		goRecover(&eg, func() error {
			cnt := make([]int, nd*nt)
			for {
				i := int(next.Add(1) - 1)
				switch {
				case i < chunks:
					g.count(l, t, cnt, i*chunk, min(g.cells, (i+1)*chunk), 0, 0)
					continue
				case i < chunks+hchunks:
					i -= chunks
					g.count(l, t, cnt, 0, 0, i*chunk, min(heavy, (i+1)*chunk))
					continue
				}
				break
			}
			mu.Lock()
			for k, v := range cnt {
				total[k] += v
			}
			mu.Unlock()
			return nil
		})
	}
	waitOrPanic(&eg)
	return total
}

// heavyPlaces is the number of places counted whole.
func (g *knoxGrid) heavyPlaces() int { return len(g.hStart) - 1 }

// rowTotals returns the pairs in each distance band, whatever their days, the last
// band (beyond the last bound) taking the rest of the pairs: the counts with every
// event on the same day.
func (g *knoxGrid) rowTotals(pairs, workers int) []int {
	var l knoxLayout
	g.lay(&l, make([]int, g.n))
	t := newKnoxTimes([]int{0}, 0)
	nd := len(g.sq) + 1
	rows := g.countAll(&l, &t, nd-1, workers)
	rows = append(rows, pairs)
	for _, v := range rows[:nd-1] {
		rows[nd-1] -= v
	}
	return rows
}

// knoxOne is 1 for true and 0 for false, without a branch.
func knoxOne(b bool) int {
	if b {
		return 1
	}
	return 0
}

// knoxBandTable finds the distance band of a squared distance s by a table over
// equal slices of [0, smax]: slice k = int(s·scale) (the last entry for everything
// beyond smax) holds its band, or knoxBandEdge when a bound falls in it, where the
// bounds are compared one by one. Since both the slice and the band grow with s, a
// slice that holds no bound holds one band.
type knoxBandTable struct {
	sq    []float64
	scale float64
	last  float64 // the index of the last entry, as a float
	tab   []uint8
}

const knoxBandEdge = 255

func newKnoxBandTable(sq []float64) knoxBandTable {
	const slices = 1 << 12
	t := knoxBandTable{sq: sq}
	smax := sq[len(sq)-1]
	if len(sq) >= knoxBandEdge || !(smax > 0) || math.IsInf(smax, 0) || math.IsInf(slices/smax, 0) {
		t.tab = []uint8{knoxBandEdge} // scale 0: every s in slice 0, compared
		return t
	}
	t.scale = slices / smax
	kmax := int(smax * t.scale)
	t.tab = make([]uint8, kmax+2)
	t.last = float64(kmax + 1)
	for k := range t.tab[:kmax+1] {
		s := (float64(k) + 0.5) / t.scale
		if int(s*t.scale) != k {
			t.tab[k] = knoxBandEdge
			continue
		}
		t.tab[k] = uint8(t.slow(s))
	}
	for _, q := range sq {
		t.tab[int(q*t.scale)] = knoxBandEdge
	}
	t.tab[kmax+1] = uint8(len(sq))
	return t
}

// slow is the band of s by comparison with each bound.
func (t *knoxBandTable) slow(s float64) int {
	b := 0
	for _, q := range t.sq {
		b += knoxOne(s > q)
	}
	return b
}

// band is the band of s: 0 to len(sq)−1, or len(sq) beyond the last bound.
func (t *knoxBandTable) band(s float64) int {
	b := int(t.tab[int(min(s*t.scale, t.last))])
	if b == knoxBandEdge {
		b = t.slow(s)
	}
	return b
}

// knoxSelf adds to acc (see count) the pairs of the events of one cell, ordered by
// day, at most T days apart.
func knoxSelf(xs, ys []float64, ds []int, bt *knoxBandTable, col []int32, nt, T int, acc []int) {
	hi := 0
	for p := range ds {
		xi, yi, di := xs[p], ys[p], ds[p]
		hi = max(hi, p+1)
		for hi < len(ds) && ds[hi]-di <= T {
			hi++
		}
		for q := p + 1; q < hi; q++ {
			dx, dy := xi-xs[q], yi-ys[q]
			b := bt.band(float64(dx*dx) + float64(dy*dy))
			acc[(b*nt+int(col[ds[q]-di]))<<2|q&3]++
		}
	}
}

// knoxCross adds to acc (see count) the pairs of an event of cell a and one of cell
// b (each ordered by day) at most T days apart.
func knoxCross(xa, ya []float64, da []int, xb, yb []float64, db []int, bt *knoxBandTable, col []int32, nt, T int, acc []int) {
	lo, hi := 0, 0
	for p := range da {
		xi, yi, di := xa[p], ya[p], da[p]
		for lo < len(db) && db[lo] < di-T {
			lo++
		}
		hi = max(hi, lo)
		for hi < len(db) && db[hi] <= di+T {
			hi++
		}
		for q := lo; q < hi; q++ {
			dx, dy := xi-xb[q], yi-yb[q]
			b := bt.band(float64(dx*dx) + float64(dy*dy))
			dt := db[q] - di
			dt = (dt ^ dt>>63) - dt>>63 // |dt|
			acc[(b*nt+int(col[dt]))<<2|q&3]++
		}
	}
}
