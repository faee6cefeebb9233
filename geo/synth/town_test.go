package synth

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tensionmap/tensionmap/geo"
)

func mustMK(t testing.TB) *Town {
	t.Helper()
	tn, err := MiltonKeynes()
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func TestMiltonKeynesTown(t *testing.T) {
	tn := mustMK(t)
	if len(tn.Areas) != 152 || len(tn.Groups) != 32 || tn.Level != "lsoa" || tn.GroupLevel != "msoa" {
		t.Fatalf("%d %s areas in %d %s groups; want 152 LSOAs in 32 MSOAs", len(tn.Areas), tn.Level, len(tn.Groups), tn.GroupLevel)
	}
	total, area := 0, 0.0
	groupPop := map[string]int{}
	groupArea := map[string]float64{}
	for _, a := range tn.Areas {
		if !strings.HasPrefix(a.Code, "E01") || !strings.HasPrefix(a.Name, "Milton Keynes ") || a.Population < 1000 || a.Population > 6000 {
			t.Errorf("LSOA %s %q has %d people", a.Code, a.Name, a.Population)
		}
		total += a.Population
		g := tn.GroupOf[a.Code]
		groupPop[g] += a.Population
		groupArea[g] += math.Abs(planar.Area(a.Geometry))
		area += math.Abs(planar.Area(a.Geometry))
	}
	// The Indices of Deprivation 2019 denominators: mid-2015, excluding prisoners.
	if total != 262828 {
		t.Errorf("Milton Keynes has %d people, want 262,828", total)
	}
	for _, g := range tn.Groups {
		got := math.Abs(planar.Area(g.Geometry))
		if g.Population != groupPop[g.Code] || math.Abs(got-groupArea[g.Code]) > 1e-9 || !strings.HasPrefix(g.Code, "MSOA-MILTON-KEYNES-") {
			t.Errorf("MSOA %s %q: %d people, area %.9f; its LSOAs: %d people, area %.9f", g.Code, g.Name, g.Population, got, groupPop[g.Code], groupArea[g.Code])
		}
	}

	// The LSOAs tile the town: no edge is drawn twice the same way (no overlap), no
	// two edges cross, and the town's outline (edges not shared) is one ring without
	// holes: no gaps between neighbours.
	seen := map[[2]orb.Point]string{}
	for _, a := range tn.Areas {
		for _, p := range a.Geometry {
			if i, j, ok := selfIntersection(p[0]); ok {
				t.Errorf("%s: edges %d and %d cross", a.Code, i, j)
			}
			r := p[0]
			for i := 0; i+1 < len(r); i++ {
				e := [2]orb.Point{r[i], r[i+1]}
				if o, dup := seen[e]; dup {
					t.Errorf("edge %v of %s is also %s's, the same way round: they overlap", e, a.Code, o)
				}
				seen[e] = a.Code
			}
		}
	}
	whole, err := dissolve(tn.Areas)
	if err != nil {
		t.Fatal(err)
	}
	holes := 0
	for _, p := range whole {
		holes += len(p) - 1
	}
	if len(whole) != 1 || holes != 0 {
		t.Errorf("the LSOAs dissolve into %d polygons with %d holes; want Milton Keynes as one piece without gaps", len(whole), holes)
	}
	if got := math.Abs(planar.Area(whole)); math.Abs(got-area) > 1e-9 {
		t.Errorf("the town's area %.9f, its LSOAs' %.9f", got, area)
	}

	// The named places lie in the LSOAs that name them.
	ix := geo.NewAreaIndex(tn.Areas)
	for _, p := range tn.Places {
		ids := ix.Containing(nil, geo.LatLon{Lat: p.Lat, Lon: p.Lon})
		if len(ids) != 1 || tn.Areas[slices.IndexFunc(tn.Areas, func(a geo.Area) bool { return a.Name == p.AreaName })].ID != ids[0] {
			t.Errorf("%s (%.4f, %.4f) is not in %s alone: %v", p.Name, p.Lat, p.Lon, p.AreaName, ids)
		}
	}
}

func TestMiltonKeynesRecords(t *testing.T) {
	tn := mustMK(t)
	g, err := New(Options{Seed: 5, Rows: 80000, Years: 3, End: testEnd, LatestEvent: 5, Town: tn})
	if err != nil {
		t.Fatal(err)
	}
	areas := g.Areas()
	var lsoas []geo.Area
	for i, a := range areas {
		if a.Level == "lsoa" {
			lsoas = append(lsoas, geo.Area{ID: int32(i), Code: a.Code, Geometry: a.Geometry})
		}
	}
	if len(lsoas) != 152 || len(areas) != 184 {
		t.Fatalf("%d areas, %d LSOAs", len(areas), len(lsoas))
	}
	ix := geo.NewAreaIndex(lsoas)
	bg := map[string]bool{}
	for _, r := range g.Areas() {
		bg[r.Code] = true
	}
	counts := map[string]int{}
	located := 0
	injected := map[string]bool{}
	var buf []int32
	err = g.Incidents(func(r *geo.RawIncident) error {
		if r.Lat == "" {
			return nil
		}
		x := parseRec(g.Start(), r)
		buf = ix.Containing(buf[:0], geo.LatLon{Lat: x.lat, Lon: x.lon})
		if len(buf) == 0 {
			return fmt.Errorf("record %d at %.6f, %.6f (%s) is in no LSOA of Milton Keynes", r.Index, x.lat, x.lon, r.Precision)
		}
		counts[areas[buf[0]].Code]++
		located++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if located < 70000 {
		t.Errorf("%d of 80000 records located", located)
	}
	for _, sp := range g.Spikes() {
		for _, ref := range sp.Refs {
			injected[ref] = true
		}
	}

	// Hot spots: Central Milton Keynes and the named places.
	hot := map[string]float64{}
	for _, h := range g.Hotspots() {
		hot[h.Code] = h.Risk
	}
	for code, risk := range map[string]float64{"E01033498": 4, "E01016837": 3.5, "E01016845": 3, "E01033499": centreRisk} {
		if hot[code] != risk {
			t.Errorf("hot spot %s has risk %v, want %v", code, hot[code], risk)
		}
	}

	// Records follow population times risk: the rate per person and unit of risk is
	// about the same in every LSOA (the spikes and near repeats add some spread).
	var rates []float64
	pop := map[string]int{}
	for _, a := range areas {
		pop[a.Code] = a.Population
	}
	for _, a := range lsoas {
		risk := 1.0
		if r, ok := hot[a.Code]; ok {
			risk = r
		}
		rates = append(rates, float64(counts[a.Code])/(float64(pop[a.Code])*risk))
	}
	slices.Sort(rates)
	q10, q90 := rates[len(rates)/10], rates[len(rates)*9/10]
	t.Logf("records per person and unit of risk: 10th percentile %.4f, median %.4f, 90th %.4f", q10, rates[len(rates)/2], q90)
	if q90 > 1.6*q10 {
		t.Errorf("records do not follow the population: per person and risk, the 10th percentile LSOA has %.4f, the 90th %.4f", q10, q90)
	}
	// Bletchley's hot spot has about four times the records per person of the median LSOA.
	if r := float64(counts["E01033498"]) / float64(pop["E01033498"]) / rates[len(rates)/2]; r < 3 || r > 5.5 {
		t.Errorf("Bletchley's hot spot has %.1f times the median rate, want about 4", r)
	}

	// Events: local ones in named places, citywide ones centred on Central Milton Keynes.
	names := map[string]Place{}
	for _, p := range tn.Places {
		names[p.Name] = p
	}
	local := 0
	for _, sp := range g.Spikes() {
		if sp.RadiusM == 0 {
			if sp.Center.Lat != 52.043 || sp.Center.Lon != -0.758 || len(sp.Areas) != 152 {
				t.Errorf("%s: citywide spike centred on %v over %d areas", sp.ID, sp.Center, len(sp.Areas))
			}
			continue
		}
		local++
		i := strings.LastIndex(sp.Event.Description, " in ")
		p, ok := names[sp.Event.Description[i+4:]]
		if i < 0 || !ok || sp.Center.Lat != p.Lat || sp.Center.Lon != p.Lon {
			t.Errorf("%s: local event %q at %v, not at a named place", sp.ID, sp.Event.Description, sp.Center)
		}
		if !slices.Contains(sp.Areas, lsoas[slices.IndexFunc(tn.Areas, func(a geo.Area) bool { return a.Name == p.AreaName })].Code) {
			t.Errorf("%s: the areas %v leave out %s", sp.ID, sp.Areas, p.AreaName)
		}
	}
	if local == 0 {
		t.Errorf("no local event in three years")
	}
}

// smallTown writes a 3 x 2 grid of 1 km squares as LSOAs of two MSOAs ("Smallville
// 001A"..."Smallville 001C", "Smallville 002A"...), one of them a MultiPolygon, and
// their populations as the Indices of Deprivation file writes them.
func smallTown(t *testing.T) (geojson, csv []byte) {
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	var p bytes.Buffer
	p.WriteString("\ufeffLSOA code (2011),LSOA name (2011),Total population: mid 2015 (excluding prisoners)\n")
	const dx, dy = 0.0146, 0.009 // about 1 km at 52 N
	for j := 0; j < 2; j++ {
		for i := 0; i < 3; i++ {
			// Grid lines computed once each, so that neighbours share their corners exactly.
			x := func(u float64) float64 { return -1.0 + u*dx }
			y := func(v float64) float64 { return 52.0 + v*dy }
			sq := func(u0, u1 float64) string {
				v0, v1 := float64(j), float64(j+1)
				return fmt.Sprintf("[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]", x(u0), y(v0), x(u1), y(v0), x(u1), y(v1), x(u0), y(v1), x(u0), y(v0))
			}
			u := float64(i)
			geom := fmt.Sprintf(`{"type":"Polygon","coordinates":[%s]}`, sq(u, u+1))
			if i == 2 && j == 1 { // two halves a little apart
				geom = fmt.Sprintf(`{"type":"MultiPolygon","coordinates":[[%s],[%s]]}`, sq(u, u+0.4), sq(u+0.6, u+1))
			}
			code := fmt.Sprintf("E0199%d%d", j, i)
			name := fmt.Sprintf("Smallville %03d%c", j+1, 'A'+i)
			if b.Len() > 45 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"type":"Feature","properties":{"LSOA11CD":%q,"LSOA11NM":%q},"geometry":%s}`+"\n", code, name, geom)
			fmt.Fprintf(&p, "%s,%s,\"1,%03d\"\n", code, name, 200*i+100*j)
		}
	}
	p.WriteString("E01000001,City of London 001A,\"1,296\"\n") // not in the town: ignored
	b.WriteString("]}")
	return b.Bytes(), p.Bytes()
}

func TestReadTownOfYourOwn(t *testing.T) {
	gj, pop := smallTown(t)
	tn, err := ReadTown(bytes.NewReader(gj), bytes.NewReader(pop), TownOptions{Name: "Smallville"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tn.Areas) != 6 || tn.GroupLevel != "msoa" || len(tn.Groups) != 2 || tn.Areas[0].Population != 1000 || tn.Areas[5].Population != 1500 {
		t.Fatalf("%d areas (%+v), %d %s groups", len(tn.Areas), tn.Areas[0], len(tn.Groups), tn.GroupLevel)
	}
	for _, gr := range tn.Groups {
		want := 1 // the three squares in a row; the second row's third square is in two parts
		if gr.Name == "Smallville 002" {
			want = 2
		}
		if len(gr.Geometry) != want || len(gr.Geometry[0]) != 1 {
			t.Errorf("MSOA %s %q: %d polygons, want %d", gr.Code, gr.Name, len(gr.Geometry), want)
		}
	}
	if tn.Groups[0].Population != 3600 || tn.Groups[1].Population != 3900 || tn.Groups[0].Name != "Smallville 001" {
		t.Errorf("MSOAs %+v %+v", tn.Groups[0].Population, tn.Groups[1].Population)
	}

	g, err := New(Options{Seed: 3, Rows: 3000, Years: 2, End: testEnd, Town: tn})
	if err != nil {
		t.Fatal(err)
	}
	ix := geo.NewAreaIndex(tn.Areas)
	located := 0
	if err := g.Incidents(func(r *geo.RawIncident) error {
		if r.Lat == "" {
			return nil
		}
		x := parseRec(g.Start(), r)
		if len(ix.Containing(nil, geo.LatLon{Lat: x.lat, Lon: x.lon})) == 0 {
			return fmt.Errorf("record %d at %v, %v is outside Smallville", r.Index, x.lat, x.lon)
		}
		located++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if located < 2500 || len(g.Spikes()) == 0 {
		t.Errorf("%d located records, %d spikes", located, len(g.Spikes()))
	}
	dir := t.TempDir()
	if _, err := WriteDir(dir, g); err != nil {
		t.Fatal(err)
	}
	back, err := os.ReadFile(filepath.Join(dir, FileAreas))
	if err != nil {
		t.Fatal(err)
	}
	af, err := geo.ReadAreas(bytes.NewReader(back), geo.AreaReadOptions{Level: "x", CodeField: "code"})
	if err != nil || len(af.Areas) != 8 || len(af.Areas[5].Geometry) != 2 || len(af.Areas[7].Geometry) != 2 {
		t.Errorf("areas.geojson read back: %v, %d areas", err, len(af.Areas))
	}

	// Plain columns, and names that are not ONS's: no MSOAs.
	gj2 := bytes.ReplaceAll(bytes.ReplaceAll(gj, []byte("LSOA11CD"), []byte("code")), []byte("Smallville 00"), []byte("Beat "))
	tn, err = ReadTown(bytes.NewReader(gj2), strings.NewReader("code,population\nE019900,10\nE019901,20\nE019902,30\nE019910,40\nE019911,50\nE019912,60\n"), TownOptions{})
	if err != nil || tn.GroupLevel != "" || len(tn.Areas) != 6 || tn.Areas[0].Name != "Beat 1A" {
		t.Errorf("plain columns: %v, %+v", err, tn)
	}
}

func TestReadTownRefuses(t *testing.T) {
	gj, pop := smallTown(t)
	for _, c := range []struct {
		name     string
		gj, pop  []byte
		o        TownOptions
		wantText string
	}{
		{"a missing population", gj, bytes.ReplaceAll(pop, []byte("E019912"), []byte("E019999")), TownOptions{}, "no population for 1 of the 6 areas, such as E019912"},
		{"no code property", bytes.ReplaceAll(gj, []byte("LSOA11CD"), []byte("id")), pop, TownOptions{}, "no code property"},
		{"no population column", gj, bytes.ReplaceAll(pop, []byte("Total population"), []byte("People")), TownOptions{}, "no population column"},
		{"a named column that is not there", gj, pop, TownOptions{PopulationField: "All Ages"}, `no column "All Ages"`},
		{"a bad count", gj, bytes.ReplaceAll(pop, []byte(`"1,000"`), []byte("many")), TownOptions{}, `line 2`},
		{"not GeoJSON", []byte("code,name\n"), pop, TownOptions{}, "boundary file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadTown(bytes.NewReader(c.gj), bytes.NewReader(c.pop), c.o)
			if err == nil || !strings.Contains(err.Error(), c.wantText) {
				t.Errorf("got %v, want an error saying %q", err, c.wantText)
			}
		})
	}
}

func TestDissolveWithAHole(t *testing.T) {
	// Eight unit squares around a missing ninth: one polygon with a hole.
	var parts []geo.Area
	for j := 0; j < 3; j++ {
		for i := 0; i < 3; i++ {
			if i == 1 && j == 1 {
				continue
			}
			x, y := float64(i), float64(j)
			parts = append(parts, geo.Area{Geometry: orb.MultiPolygon{{{{x, y}, {x + 1, y}, {x + 1, y + 1}, {x, y + 1}, {x, y}}}}})
		}
	}
	mp, err := dissolve(parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(mp) != 1 || len(mp[0]) != 2 || planar.Area(mp) != 8 || !planar.MultiPolygonContains(mp, orb.Point{0.5, 1.5}) || planar.MultiPolygonContains(mp, orb.Point{1.5, 1.5}) {
		t.Errorf("dissolved: %v", mp)
	}
	// Borders not shared vertex for vertex do not dissolve.
	parts = []geo.Area{
		{Geometry: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 2}, {0, 2}, {0, 0}}}}},
		{Geometry: orb.MultiPolygon{{{{1, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 0}}}}},
		{Geometry: orb.MultiPolygon{{{{1, 1}, {2, 1}, {2, 2}, {1, 2}, {1, 1}}}}},
	}
	if mp, err := dissolve(parts); err == nil {
		t.Errorf("a T-junction dissolved into %v", mp)
	}
}

func TestTownDescribe(t *testing.T) {
	mk, err := MiltonKeynes()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mk.Describe(), "Milton Keynes, 152 LSOAs in 32 MSOAs"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	own := &Town{Name: "areas.geojson", Level: "ward", Areas: mk.Areas[:2]}
	if got, want := own.Describe(), "areas.geojson, 2 wards (no coarser level derived from their names)"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
}
