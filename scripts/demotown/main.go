// Command demotown cuts the demo's real town down from public files: the LSOA
// boundaries of one local authority (simplified with their shared borders kept
// shared, coordinates rounded) and their populations. Run it from the repository's
// root (scripts/demo-town.sh does):
//
//	go run ./scripts/demotown --areas lsoa.geojson --population denominators.csv.gz --out geo/synth/data --name milton-keynes
package main

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/simplify"
	"github.com/tensionmap/tensionmap/geo"
)

func main() {
	areas := flag.String("areas", "", "GeoJSON of the LSOA boundaries (WGS84)")
	pop := flag.String("population", "", "CSV of the population denominators (gzip allowed)")
	codeField := flag.String("code-field", "LSOA11CD", "property holding the LSOA code")
	nameField := flag.String("name-field", "LSOA11NM", "property holding the LSOA name")
	popCode := flag.String("population-code-field", "LSOA code (2011)", "population column holding the LSOA code")
	popField := flag.String("population-field", "Total population: mid 2015 (excluding prisoners)", "population column holding the count")
	tolerance := flag.Float64("tolerance", 10, "Douglas-Peucker tolerance in metres")
	out := flag.String("out", "geo/synth/data", "directory to write to")
	name := flag.String("name", "milton-keynes", "file name stem")
	flag.Parse()
	if err := run(*areas, *pop, *codeField, *nameField, *popCode, *popField, *tolerance, *out, *name); err != nil {
		fmt.Fprintln(os.Stderr, "demotown:", err)
		os.Exit(1)
	}
}

func run(areasPath, popPath, codeField, nameField, popCode, popField string, tolM float64, out, name string) error {
	f, err := os.Open(areasPath)
	if err != nil {
		return err
	}
	af, err := geo.ReadAreas(f, geo.AreaReadOptions{Level: "lsoa", CodeField: codeField, NameField: nameField})
	f.Close()
	if err != nil {
		return err
	}
	if len(af.Rejected) > 0 {
		return fmt.Errorf("%s: %d features rejected, the first: %v", areasPath, len(af.Rejected), af.Rejected[0])
	}
	f, err = os.Open(popPath)
	if err != nil {
		return err
	}
	pf, err := geo.ReadPopulation(f, geo.PopulationOptions{CodeField: popCode, PopulationField: popField})
	f.Close()
	if err != nil {
		return err
	}
	as := af.Areas
	slices.SortFunc(as, func(a, b geo.Area) int { return cmp.Compare(a.Code, b.Code) })
	total := 0
	for i := range as {
		n, ok := pf.Population[as[i].Code]
		if !ok {
			return fmt.Errorf("%s: no population for %s", popPath, as[i].Code)
		}
		as[i].Population = n
		total += n
	}

	before := countVertices(as)
	snapVertices(as, 1e-6)
	lat := (func() float64 { b, _ := geo.AreasBound(as); return b.Center()[1] })()
	tolDeg := tolM / (geo.EarthRadius * math.Pi / 180) // degrees of latitude
	if err := simplifyShared(as, tolDeg, math.Cos(lat*math.Pi/180)); err != nil {
		return err
	}
	if err := checkCoverage(as); err != nil {
		return err
	}
	after := countVertices(as)

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	gj := filepath.Join(out, name+"-lsoa.geojson")
	if err := writeGeoJSON(gj, as); err != nil {
		return err
	}
	pc := filepath.Join(out, name+"-population.csv")
	if err := writePopulation(pc, as); err != nil {
		return err
	}
	st, _ := os.Stat(gj)
	fmt.Printf("%d areas, %d people; %d vertices simplified to %d (%.0f m tolerance); wrote %s (%d KB) and %s\n",
		len(as), total, before, after, tolM, gj, st.Size()/1024, pc)
	return nil
}

// snapVertices moves vertices closer than eps degrees to one another onto the
// first of them, so that neighbours whose shared borders differ in the last digits
// share them exactly; repeated points are dropped.
func snapVertices(as []geo.Area, eps float64) {
	type cellKey [2]int64
	reps := map[cellKey][]orb.Point{}
	snap := func(p orb.Point) orb.Point {
		kx, ky := int64(math.Floor(p[0]/eps)), int64(math.Floor(p[1]/eps))
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				for _, q := range reps[cellKey{kx + dx, ky + dy}] {
					if math.Hypot(p[0]-q[0], p[1]-q[1]) <= eps {
						return q
					}
				}
			}
		}
		reps[cellKey{kx, ky}] = append(reps[cellKey{kx, ky}], p)
		return p
	}
	for ai := range as {
		for pi := range as[ai].Geometry {
			for ri, r := range as[ai].Geometry[pi] {
				var out orb.Ring
				for _, p := range r {
					q := snap(p)
					if len(out) == 0 || out[len(out)-1] != q {
						out = append(out, q)
					}
				}
				as[ai].Geometry[pi][ri] = out
			}
		}
	}
}

func countVertices(as []geo.Area) int {
	n := 0
	for _, a := range as {
		for _, p := range a.Geometry {
			for _, r := range p {
				n += len(r) - 1
			}
		}
	}
	return n
}

// simplifyShared simplifies every ring along arcs between nodes (vertices where
// three or more borders meet), each arc once, so that neighbours keep sharing their
// border exactly; then rounds to 1e-5 degrees. kx scales longitude to match latitude.
func simplifyShared(as []geo.Area, tol, kx float64) error {
	// Node vertices: more than two distinct neighbours in the graph of all edges.
	nb := map[orb.Point]map[orb.Point]bool{}
	link := func(a, b orb.Point) {
		if nb[a] == nil {
			nb[a] = map[orb.Point]bool{}
		}
		nb[a][b] = true
	}
	for _, a := range as {
		for _, p := range a.Geometry {
			for _, r := range p {
				for i := 0; i+1 < len(r); i++ {
					link(r[i], r[i+1])
					link(r[i+1], r[i])
				}
			}
		}
	}
	isNode := func(v orb.Point) bool { return len(nb[v]) != 2 }
	done := map[string]orb.LineString{} // an arc's key to its simplified points
	key := func(ls orb.LineString) (string, bool) {
		fwd := fmt.Sprint(ls)
		rev := slices.Clone(ls)
		slices.Reverse(rev)
		bwd := fmt.Sprint(rev)
		if fwd <= bwd {
			return fwd, false
		}
		return bwd, true
	}
	simp := func(ls orb.LineString) orb.LineString {
		k, reversed := key(ls)
		if s, ok := done[k]; ok {
			if reversed {
				s = slices.Clone(s)
				slices.Reverse(s)
			}
			return s
		}
		c := slices.Clone(ls)
		if reversed {
			slices.Reverse(c)
		}
		// Douglas-Peucker on a plane where a degree of longitude is as long as one of latitude.
		scaled := make(orb.LineString, len(c))
		for i, p := range c {
			scaled[i] = orb.Point{p[0] * kx, p[1]}
		}
		keep := map[orb.Point]bool{}
		for _, p := range simplify.DouglasPeucker(tol).LineString(scaled) {
			keep[p] = true
		}
		var s orb.LineString
		for i, p := range c {
			if keep[scaled[i]] {
				s = append(s, p)
			}
		}
		done[k] = s
		if reversed {
			s = slices.Clone(s)
			slices.Reverse(s)
		}
		return s
	}
	for ai := range as {
		for pi := range as[ai].Geometry {
			for ri, r := range as[ai].Geometry[pi] {
				pts := r[:len(r)-1]
				start := slices.IndexFunc(pts, isNode)
				if start < 0 {
					// An island with no node: cut it at its westmost vertex and its
					// farthest vertex from there, so that both halves are proper arcs.
					start = 0
					for i, p := range pts {
						if p[0] < pts[start][0] || (p[0] == pts[start][0] && p[1] < pts[start][1]) {
							start = i
						}
					}
				}
				rot := append(slices.Clone(pts[start:]), pts[:start]...)
				rot = append(rot, rot[0])
				cuts := []int{0}
				for i := 1; i < len(rot)-1; i++ {
					if isNode(rot[i]) {
						cuts = append(cuts, i)
					}
				}
				if len(cuts) == 1 {
					far, fd := 0, -1.0
					for i, p := range rot {
						if d := math.Hypot((p[0]-rot[0][0])*kx, p[1]-rot[0][1]); d > fd {
							far, fd = i, d
						}
					}
					cuts = append(cuts, far)
				}
				cuts = append(cuts, len(rot)-1)
				var ring orb.Ring
				for c := 0; c+1 < len(cuts); c++ {
					s := simp(orb.LineString(rot[cuts[c] : cuts[c+1]+1]))
					if c > 0 {
						s = s[1:]
					}
					ring = append(ring, s...)
				}
				// Round; drop repeated points.
				var rr orb.Ring
				for _, p := range ring {
					q := orb.Point{math.Round(p[0]*1e5) / 1e5, math.Round(p[1]*1e5) / 1e5}
					if len(rr) == 0 || rr[len(rr)-1] != q {
						rr = append(rr, q)
					}
				}
				if len(rr) < 4 {
					return fmt.Errorf("%s: a ring collapsed to %d points", as[ai].Code, len(rr))
				}
				want := orb.CCW
				if ri > 0 {
					want = orb.CW
				}
				if rr.Orientation() != want {
					rr.Reverse()
				}
				as[ai].Geometry[pi][ri] = rr
			}
		}
	}
	return nil
}

// checkCoverage checks that the simplified areas still tile the town: every ring
// simple, no two edges of the whole set crossing, and every edge either shared by
// exactly two areas (in opposite directions) or on the town's outer boundary.
func checkCoverage(as []geo.Area) error {
	type seg struct {
		a, b orb.Point
		code string
	}
	var segs []seg
	dir := map[[2]orb.Point]int{}
	for _, a := range as {
		for _, p := range a.Geometry {
			for _, r := range p {
				for i := 0; i+1 < len(r); i++ {
					segs = append(segs, seg{r[i], r[i+1], a.Code})
					dir[[2]orb.Point{r[i], r[i+1]}]++
				}
			}
		}
	}
	for e, n := range dir {
		if n > 1 {
			return fmt.Errorf("edge %v is drawn %d times in the same direction: areas overlap", e, n)
		}
	}
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			if cross(segs[i].a, segs[i].b, segs[j].a, segs[j].b) {
				return fmt.Errorf("edges of %s and %s cross after simplification (%v-%v, %v-%v): lower the tolerance", segs[i].code, segs[j].code, segs[i].a, segs[i].b, segs[j].a, segs[j].b)
			}
		}
	}
	return nil
}

// cross reports whether two segments cross at a point inside both (touching at
// shared end points is allowed).
func cross(p1, p2, p3, p4 orb.Point) bool {
	if p1 == p3 || p1 == p4 || p2 == p3 || p2 == p4 {
		// Sharing an end point: they cross only if collinear and overlapping.
		return collinearOverlap(p1, p2, p3, p4)
	}
	o := func(a, b, c orb.Point) float64 { return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]) }
	d1, d2, d3, d4 := o(p3, p4, p1), o(p3, p4, p2), o(p1, p2, p3), o(p1, p2, p4)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	on := func(a, b, c orb.Point) bool {
		return math.Min(a[0], b[0]) <= c[0] && c[0] <= math.Max(a[0], b[0]) && math.Min(a[1], b[1]) <= c[1] && c[1] <= math.Max(a[1], b[1])
	}
	return (d1 == 0 && on(p3, p4, p1)) || (d2 == 0 && on(p3, p4, p2)) || (d3 == 0 && on(p1, p2, p3)) || (d4 == 0 && on(p1, p2, p4))
}

func collinearOverlap(p1, p2, p3, p4 orb.Point) bool {
	o := func(a, b, c orb.Point) float64 { return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]) }
	if o(p1, p2, p3) != 0 || o(p1, p2, p4) != 0 {
		return false
	}
	if (p1 == p3 && p2 == p4) || (p1 == p4 && p2 == p3) {
		return false // the same edge, shared by two areas
	}
	// Project on the longer axis and compare the open intervals.
	ax := 0
	if math.Abs(p2[1]-p1[1]) > math.Abs(p2[0]-p1[0]) {
		ax = 1
	}
	lo1, hi1 := math.Min(p1[ax], p2[ax]), math.Max(p1[ax], p2[ax])
	lo2, hi2 := math.Min(p3[ax], p4[ax]), math.Max(p3[ax], p4[ax])
	return math.Min(hi1, hi2)-math.Max(lo1, lo2) > 0
}

func writeGeoJSON(path string, as []geo.Area) error {
	type feature struct {
		Type       string            `json:"type"`
		Properties map[string]string `json:"properties"`
		Geometry   json.RawMessage   `json:"geometry"`
	}
	w, err := os.Create(path)
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Fprintln(w, `{"type":"FeatureCollection","features":[`)
	for i, a := range as {
		var g []byte
		if len(a.Geometry) == 1 {
			g = fmt.Appendf(nil, `{"type":"Polygon","coordinates":%s}`, coords(a.Geometry[0]))
		} else {
			g = append(g, `{"type":"MultiPolygon","coordinates":[`...)
			for j, p := range a.Geometry {
				if j > 0 {
					g = append(g, ',')
				}
				g = append(g, coords(p)...)
			}
			g = append(g, "]}"...)
		}
		b, err := json.Marshal(feature{"Feature", map[string]string{"LSOA11CD": a.Code, "LSOA11NM": a.Name}, g})
		if err != nil {
			return err
		}
		sep := ","
		if i == len(as)-1 {
			sep = ""
		}
		fmt.Fprintf(w, "%s%s\n", b, sep)
	}
	fmt.Fprintln(w, "]}")
	return w.Close()
}

func coords(p orb.Polygon) []byte {
	b := []byte{'['}
	for i, r := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, q := range r {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendFloat(b, q[0], 'f', -1, 64)
			b = append(b, ',')
			b = strconv.AppendFloat(b, q[1], 'f', -1, 64)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return append(b, ']')
}

func writePopulation(path string, as []geo.Area) error {
	w, err := os.Create(path)
	if err != nil {
		return err
	}
	defer w.Close()
	cw := csv.NewWriter(w)
	cw.Write([]string{"code", "name", "population"})
	for _, a := range as {
		cw.Write([]string{a.Code, a.Name, strconv.Itoa(a.Population)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return w.Close()
}
