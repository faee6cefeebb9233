package tension

import "math"

// The near-repeat counts from a list of the pairs near in space.
//
// A pair's distance band never changes under the permutation of days, so the pairs
// within the largest distance can be listed once, with their bands, and each
// replicate counts how many of them are near in time under its days: no distance is
// measured again. A listed pair costs 8 bytes (two int32 event numbers) and one visit
// per replicate, whatever its days; the grid visits only the pairs near in both space
// and time (and some more in its neighbouring cells), each with a distance measured.
// So the list is quicker where most pairs near in space are also near in time (days
// spanning not much more than the last time bound), and the grid where the days
// span far more: on a year of the demo town, 200,000 incidents have 166 million
// pairs within 500 m, of which the grid visits 41 million per replicate (27 million
// of them within 500 m and 28 days).
//
// The list is used when it holds at most knoxPairBudget pairs (64 MiB, and up to
// three times that while it is built: grouped by band in growing slices, then copied) and its estimated cost per replicate (the
// pairs) is below the grid's (the pairs near in space times the share of all pairs
// near in time, times knoxGridPairCost); else the grid counts. The replicates are the
// same either way (knoxRun, one permutation stream), and so is every count.

// knoxPairBudget is the most pairs listed: 8 bytes each, 64 MiB.
const knoxPairBudget = 1 << 23

// knoxGridPairCost is what the grid spends on a pair near in space and time against
// what the list spends on a listed pair: 2.3 measured on the last five weeks of a
// year of the demo town (BenchmarkNearRepeat, grid and list), the grid's candidates
// beyond the largest distance, its distances and its layout included. So the list
// counts where more than about 43% of all pairs are within the last time bound.
const knoxGridPairCost = 2.3

// knoxPairList holds the pairs within the largest distance, by band: the pairs of
// band b are (pi[k], pj[k]) for k from start[b] to start[b+1].
type knoxPairList struct {
	pi, pj []int32
	start  []int
}

// useKnoxPairs says whether the list should count: within the budget and cheaper
// than the grid by the estimate above. near is the pairs within the largest
// distance, timeShare the share of all pairs within the last time bound.
func useKnoxPairs(near int, timeShare float64, tune knoxTuning) bool {
	switch {
	case tune.pairs > 0:
		return true
	case tune.pairs < 0 || near > knoxPairBudget:
		return false
	}
	return knoxGridPairCost*timeShare > 1
}

// pairList lists the pairs of g within its largest distance, with their bands; it
// returns nil when there are more than limit.
func (g *knoxGrid) pairList(events []KnoxEvent, limit int) *knoxPairList {
	nb := len(g.sq)
	byBand := make([][][2]int32, nb)
	total := 0
	add := func(i, j int32, s float64) bool {
		if s > g.smax {
			return true
		}
		b := g.bands.band(s)
		byBand[b] = append(byBand[b], [2]int32{i, j})
		total++
		return total <= limit
	}
	dist := func(i, j int32) float64 {
		dx, dy := events[i].X-events[j].X, events[i].Y-events[j].Y
		return float64(dx*dx) + float64(dy*dy)
	}
	// Light events: each cell with itself and its later neighbouring cells.
	for c := range g.cells {
		a0, a1 := int(g.cellStart[c]), int(g.cellStart[c+1])
		for p := a0; p < a1; p++ {
			i := g.lightEv[p]
			for q := p + 1; q < a1; q++ {
				if !add(i, g.lightEv[q], dist(i, g.lightEv[q])) {
					return nil
				}
			}
			for _, d := range g.fwd[g.fwdStart[c]:g.fwdStart[c+1]] {
				for q := g.cellStart[d]; q < g.cellStart[d+1]; q++ {
					if !add(i, g.lightEv[q], dist(i, g.lightEv[q])) {
						return nil
					}
				}
			}
		}
	}
	// Heavy places: within themselves (distance 0), with the light events of their
	// neighbouring cells, and with the later heavy places of those cells.
	for h := range g.heavyPlaces() {
		hev := g.hEv[g.hStart[h]:g.hStart[h+1]]
		for a, i := range hev {
			for _, j := range hev[a+1:] {
				if !add(i, j, 0) {
					return nil
				}
			}
		}
		reach := g.hReach[g.hReachStart[h]:g.hReachStart[h+1]]
		for _, d := range reach {
			for q := g.cellStart[d]; q < g.cellStart[d+1]; q++ {
				j := g.lightEv[q]
				s := dist(hev[0], j)
				for _, i := range hev {
					if !add(i, j, s) {
						return nil
					}
				}
			}
		}
		for _, d := range reach {
			for h2 := max(h+1, int(g.cellHeavy[d])); h2 < int(g.cellHeavy[d+1]); h2++ {
				h2ev := g.hEv[g.hStart[h2]:g.hStart[h2+1]]
				s := dist(hev[0], h2ev[0])
				for _, i := range hev {
					for _, j := range h2ev {
						if !add(i, j, s) {
							return nil
						}
					}
				}
			}
		}
	}
	pl := &knoxPairList{pi: make([]int32, 0, total), pj: make([]int32, 0, total), start: make([]int, nb+1)}
	for b, list := range byBand {
		for _, p := range list {
			pl.pi, pl.pj = append(pl.pi, p[0]), append(pl.pj, p[1])
		}
		byBand[b] = nil
		pl.start[b+1] = len(pl.pi)
	}
	return pl
}

// knoxListScratch is one worker's scratch for counting by the list.
type knoxListScratch struct {
	d32 []int32
	// colx[dt] is the time band of a difference of dt days, or nt beyond the last
	// bound; dt from 0 to the span of the days.
	colx []uint8
	acc  []int
}

// count adds to cnt (indexed band·nt + time band, for the bands within the last
// bounds) the listed pairs under days. lo and hi bound the days.
func (pl *knoxPairList) count(sc *knoxListScratch, days []int, lo, hi int, t *knoxTimes, cnt []int) {
	nt := len(t.bounds)
	if sc.d32 == nil {
		sc.d32 = make([]int32, len(days))
		sc.colx = make([]uint8, hi-lo+1)
		for dt := range sc.colx {
			sc.colx[dt] = uint8(nt)
			if dt <= t.last {
				sc.colx[dt] = uint8(t.col[dt])
			}
		}
		sc.acc = make([]int, (nt+1)*4)
	}
	for i, d := range days {
		sc.d32[i] = int32(d - lo)
	}
	d, colx, acc := sc.d32, sc.colx, sc.acc
	for b := range len(pl.start) - 1 {
		clear(acc)
		pi, pj := pl.pi[pl.start[b]:pl.start[b+1]], pl.pj[pl.start[b]:pl.start[b+1]]
		pj = pj[:len(pi)]
		k := 0
		for ; k+3 < len(pi); k += 4 {
			t0 := d[pi[k]] - d[pj[k]]
			t1 := d[pi[k+1]] - d[pj[k+1]]
			t2 := d[pi[k+2]] - d[pj[k+2]]
			t3 := d[pi[k+3]] - d[pj[k+3]]
			t0 = (t0 ^ t0>>31) - t0>>31
			t1 = (t1 ^ t1>>31) - t1>>31
			t2 = (t2 ^ t2>>31) - t2>>31
			t3 = (t3 ^ t3>>31) - t3>>31
			acc[int(colx[t0])<<2]++
			acc[int(colx[t1])<<2|1]++
			acc[int(colx[t2])<<2|2]++
			acc[int(colx[t3])<<2|3]++
		}
		for ; k < len(pi); k++ {
			dt := d[pi[k]] - d[pj[k]]
			dt = (dt ^ dt>>31) - dt>>31
			acc[int(colx[dt])<<2]++
		}
		for j := range nt {
			cnt[b*nt+j] += acc[4*j] + acc[4*j+1] + acc[4*j+2] + acc[4*j+3]
		}
	}
}

// knoxListFits says whether the list's tables fit the days: the time bands in a
// byte and the span of days in a counting table no longer than the sort's.
func knoxListFits(nt, n, span int) bool {
	return nt < math.MaxUint8 && span >= 0 && span <= knoxSortSpan(n)
}
