package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tensionmap/tensionmap/geo"
)

func splitLevels(t *testing.T, areas []Area) (lsoas, wards []Area) {
	t.Helper()
	for _, a := range areas {
		switch a.Level {
		case LevelLSOA:
			lsoas = append(lsoas, a)
		case LevelWard:
			wards = append(wards, a)
		default:
			t.Fatalf("area %s has level %q", a.Code, a.Level)
		}
	}
	return lsoas, wards
}

func TestAreas(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 99} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkAreas(t, newGen(t, seed, 10, 1)) })
	}
}

func checkAreas(t *testing.T, g *Generator) {
	lsoas, wards := splitLevels(t, g.Areas())
	if len(lsoas) < 140 || len(lsoas) > 160 {
		t.Errorf("%d lsoas, want about 150", len(lsoas))
	}
	if len(wards) < 15 || len(wards) > 20 {
		t.Errorf("%d wards, want 15 to 20", len(wards))
	}
	codeL, codeW := regexp.MustCompile(`^DEMO\d{4}$`), regexp.MustCompile(`^DEMOW\d{2}$`)
	nameL, nameW := regexp.MustCompile(`^Demo Town \d{3}[A-Z]$`), regexp.MustCompile(`^Demo Ward \d{2}$`)
	seen := map[string]bool{}
	total := 0
	wardPop := map[string]int{}
	for _, a := range lsoas {
		if !codeL.MatchString(a.Code) || !nameL.MatchString(a.Name) || a.Ward == "" {
			t.Errorf("lsoa %q %q ward %q", a.Code, a.Name, a.Ward)
		}
		if a.Population < minLSOAPop || a.Population > maxLSOAPop {
			t.Errorf("lsoa %s has %d people", a.Code, a.Population)
		}
		total += a.Population
		wardPop[a.Ward] += a.Population
		if seen[a.Code] || seen[a.Name] {
			t.Errorf("%s %s seen twice", a.Code, a.Name)
		}
		seen[a.Code], seen[a.Name] = true, true
	}
	if total < 280000 || total > 300000 {
		t.Errorf("total population %d, want about 290,000", total)
	}
	for _, w := range wards {
		if !codeW.MatchString(w.Code) || !nameW.MatchString(w.Name) || w.Ward != "" {
			t.Errorf("ward %q %q", w.Code, w.Name)
		}
		if w.Population != wardPop[w.Code] || w.Population == 0 {
			t.Errorf("ward %s population %d, its lsoas sum to %d", w.Code, w.Population, wardPop[w.Code])
		}
	}

	// Denser towards the centre: people per square degree of the central lsoas
	// against the outer ones.
	centre := orb.Point{centreLon, centreLat}
	var inD, outD []float64
	for _, a := range lsoas {
		c, area := planar.CentroidArea(a.Polygon)
		d := math.Hypot((c[0]-centre[0])*0.6157, c[1]-centre[1]) // degrees, lon scaled by cos(52)
		if d < 0.015 {
			inD = append(inD, float64(a.Population)/area)
		} else if d > 0.05 {
			outD = append(outD, float64(a.Population)/area)
		}
	}
	if len(inD) == 0 || len(outD) == 0 || mean(inD) < 4*mean(outD) {
		t.Errorf("central density %.0f (%d lsoas), outer %.0f (%d): not denser towards the centre", mean(inD), len(inD), mean(outD), len(outD))
	}

	// Valid polygons: closed, counter-clockwise, simple; lsoas convex.
	for _, a := range append(lsoas, wards...) {
		if len(a.Polygon) != 1 {
			t.Fatalf("%s has %d rings", a.Code, len(a.Polygon))
		}
		ring := a.Polygon[0]
		if !ring.Closed() || len(ring) < 5 {
			t.Errorf("%s: ring of %d points, closed %v", a.Code, len(ring), ring.Closed())
		}
		if ring.Orientation() != orb.CCW {
			t.Errorf("%s: ring is not counter-clockwise", a.Code)
		}
		if i, j, ok := selfIntersection(ring); ok {
			t.Errorf("%s: edges %d and %d cross", a.Code, i, j)
		}
		for _, p := range ring {
			if p[0] != round6(p[0]) || p[1] != round6(p[1]) || p[0] < townW || p[0] > townE || p[1] < townS || p[1] > townN {
				t.Errorf("%s: corner %v outside the town or not at 6 decimals", a.Code, p)
			}
		}
		if a.Level == LevelLSOA {
			for k := 0; k < 4; k++ {
				o, p, q := ring[k], ring[k+1], ring[(k+2)%4]
				if (p[0]-o[0])*(q[1]-p[1])-(p[1]-o[1])*(q[0]-p[0]) <= 0 {
					t.Errorf("%s is not convex at corner %d", a.Code, k+1)
				}
			}
		}
	}

	// A tiling: areas add up to the town, and random points fall in exactly one
	// lsoa and exactly one ward, the ward of that lsoa.
	box := planar.Area(orb.Polygon{orb.Ring{{townW, townS}, {townE, townS}, {townE, townN}, {townW, townN}, {townW, townS}}})
	for _, level := range [][]Area{lsoas, wards} {
		sum := 0.0
		for _, a := range level {
			sum += planar.Area(a.Polygon)
		}
		if math.Abs(sum-box) > 1e-9*box {
			t.Errorf("%s areas sum to %g, the town is %g", level[0].Level, sum, box)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		p := orb.Point{townW + r.Float64()*(townE-townW), townS + r.Float64()*(townN-townS)}
		var inL, inW []Area
		for _, a := range lsoas {
			if planar.PolygonContains(a.Polygon, p) {
				inL = append(inL, a)
			}
		}
		for _, a := range wards {
			if planar.PolygonContains(a.Polygon, p) {
				inW = append(inW, a)
			}
		}
		if len(inL) != 1 || len(inW) != 1 {
			t.Fatalf("point %v is in %d lsoas and %d wards", p, len(inL), len(inW))
		}
		if inL[0].Ward != inW[0].Code {
			t.Fatalf("point %v is in lsoa %s of ward %s but in ward %s", p, inL[0].Code, inL[0].Ward, inW[0].Code)
		}
		if k := g.town.locate(p); k < 0 || g.town.areas[g.town.cells[k].area].Code != inL[0].Code {
			t.Fatalf("locate(%v) = %d, want %s", p, k, inL[0].Code)
		}
	}
	if h := g.Hotspots(); len(h) < 3 {
		t.Errorf("hotspots %v: want the town centre and 2 to 4 more", h)
	}
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// selfIntersection reports two non-neighbouring edges of a closed ring that touch.
func selfIntersection(ring orb.Ring) (int, int, bool) {
	n := len(ring) - 1
	for i := 0; i < n; i++ {
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue
			}
			if segmentsTouch(ring[i], ring[i+1], ring[j], ring[j+1]) {
				return i, j, true
			}
		}
	}
	// Corners visited twice make a pinch.
	seen := map[orb.Point]bool{}
	for _, p := range ring[:n] {
		if seen[p] {
			return -1, -1, true
		}
		seen[p] = true
	}
	return 0, 0, false
}

func segmentsTouch(a, b, c, d orb.Point) bool {
	cross := func(o, p, q orb.Point) float64 { return (p[0]-o[0])*(q[1]-o[1]) - (p[1]-o[1])*(q[0]-o[0]) }
	d1, d2 := cross(c, d, a), cross(c, d, b)
	d3, d4 := cross(a, b, c), cross(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	on := func(o, p, q orb.Point) bool {
		return cross(o, p, q) == 0 && min(o[0], p[0]) <= q[0] && q[0] <= max(o[0], p[0]) && min(o[1], p[1]) <= q[1] && q[1] <= max(o[1], p[1])
	}
	return on(c, d, a) || on(c, d, b) || on(a, b, c) || on(a, b, d)
}

func TestIncidentsInsideAnLSOA(t *testing.T) {
	g := newGen(t, 21, 20000, 2)
	lsoas, _ := splitLevels(t, g.Areas())
	located := 0
	err := g.Incidents(func(r *geo.RawIncident) error {
		if r.Lat == "" {
			return nil
		}
		x := parseRec(g.Start(), r)
		p := orb.Point{x.lon, x.lat}
		n := 0
		for _, a := range lsoas {
			if planar.PolygonContains(a.Polygon, p) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("record %d at %v (%s) is in %d lsoas", r.Index, p, r.Precision, n)
		}
		located++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if located < 18000 {
		t.Errorf("only %d of 20000 records located", located)
	}
}
