package synth

import (
	"bytes"
	"cmp"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tensionmap/tensionmap/geo"
)

// Town is a real place to put the demo in: its small areas (one level, each with
// its population), optionally a coarser level of groups of them, its centre and
// named places. Options.Town nil draws a synthetic grid town instead.
type Town struct {
	Name  string
	Level string     // the small areas' level, e.g. "lsoa"
	Areas []geo.Area // the small areas, each with its Population; Geometry in WGS84 [lon, lat]

	// GroupLevel names Groups' level (e.g. "msoa"); Groups are unions of small areas,
	// GroupOf maps a small area's code to its group's code. All empty when the town
	// has no coarser level.
	GroupLevel string
	Groups     []geo.Area
	GroupOf    map[string]string

	Centre orb.Point // [lon, lat]; zero: the population-weighted centre of the areas
	Places []Place   // named places for hot spots and local events; none: drawn at random

	// Attribution is the credit the boundaries' and populations' licence asks for,
	// stored with the areas and shown on the map; empty when none is known.
	Attribution string
}

// Place is a named place of a town, given by the name of the small area it lies in.
type Place struct {
	Name     string  // e.g. "Bletchley"
	AreaName string  // the small area's name, e.g. "Milton Keynes 023F"
	Lat, Lon float64 // a point of the place, inside that area
	Risk     float64 // above 1: a hot spot, its rate this many times its population's; 0: not a hot spot
}

// The demo's real town: Milton Keynes's 152 LSOAs (2011) and their mid-2015
// populations from the English Indices of Deprivation 2019 denominators, cut down
// by scripts/demo-town.sh. Open Government Licence v3.0; see the README.
var (
	//go:embed data/milton-keynes-lsoa.geojson
	mkAreas []byte
	//go:embed data/milton-keynes-population.csv
	mkPopulation []byte
)

// Attribution is what the Open Government Licence asks the demo town's users to show.
const Attribution = "Contains public sector information licensed under the Open Government Licence v3.0. " +
	"Source: Office for National Statistics licensed under the Open Government Licence v.3.0. " +
	"Contains OS data © Crown copyright and database right 2011."

// miltonKeynesPlaces are the places of the demo: the town centre, hot spots in
// Bletchley, Wolverton and Netherfield, and places where local events happen.
var miltonKeynesPlaces = []Place{
	{Name: "Central Milton Keynes", AreaName: "Milton Keynes 014E", Lat: 52.0430, Lon: -0.7580},
	{Name: "Bletchley", AreaName: "Milton Keynes 023F", Lat: 51.9966, Lon: -0.7360, Risk: 4},
	{Name: "Wolverton", AreaName: "Milton Keynes 008B", Lat: 52.0630, Lon: -0.8110, Risk: 3.5},
	{Name: "Netherfield", AreaName: "Milton Keynes 018C", Lat: 52.0260, Lon: -0.7320, Risk: 3},
	{Name: "Fishermead", AreaName: "Milton Keynes 018A", Lat: 52.0340, Lon: -0.7440},
	{Name: "Newport Pagnell", AreaName: "Milton Keynes 004D", Lat: 52.0870, Lon: -0.7220},
	{Name: "Stony Stratford", AreaName: "Milton Keynes 010C", Lat: 52.0570, Lon: -0.8530},
	{Name: "Kingston", AreaName: "Milton Keynes 017E", Lat: 52.0300, Lon: -0.6880},
	{Name: "Fenny Stratford", AreaName: "Milton Keynes 023E", Lat: 52.0000, Lon: -0.7160},
	{Name: "Olney", AreaName: "Milton Keynes 001B", Lat: 52.1530, Lon: -0.7020},
}

// MiltonKeynes returns the demo's real town: 152 LSOAs with their populations, the
// 32 MSOAs they make up (dissolved by name: "Milton Keynes 001A" is in "Milton Keynes
// 001"), Central Milton Keynes as its centre and its named places.
func MiltonKeynes() (*Town, error) {
	t, err := ReadTown(bytes.NewReader(mkAreas), bytes.NewReader(mkPopulation), TownOptions{Name: "Milton Keynes"})
	if err != nil {
		return nil, fmt.Errorf("synth: the embedded Milton Keynes: %w", err)
	}
	if t.GroupLevel == "" {
		return nil, fmt.Errorf("synth: the embedded Milton Keynes: its MSOAs could not be derived")
	}
	t.Places = slices.Clone(miltonKeynesPlaces)
	t.Centre = orb.Point{miltonKeynesPlaces[0].Lon, miltonKeynesPlaces[0].Lat}
	t.Attribution = Attribution
	return t, nil
}

// TownOptions say how to read a town's files. Empty fields are found from the files.
type TownOptions struct {
	Name                string // the town's name, for messages
	Level               string // the small areas' level; "lsoa" when empty
	CodeField           string // the boundary property holding the code; tried: LSOA21CD, LSOA11CD, code
	NameField           string // the property holding the name; tried: LSOA21NM, LSOA11NM, name
	PopulationCodeField string // the population column holding the code; see PopulationCodeColumns
	PopulationField     string // the population column holding the count; see PopulationColumns
}

// Columns ReadTown looks for, in this order and ignoring case, when TownOptions does
// not name them.
var (
	AreaCodeProperties    = []string{"LSOA21CD", "LSOA11CD", "code"}
	AreaNameProperties    = []string{"LSOA21NM", "LSOA11NM", "name"}
	PopulationCodeColumns = []string{"code", "LSOA code (2011)", "LSOA 2021 Code", "LSOA21CD", "LSOA11CD", "LSOA Code"}
	PopulationColumns     = []string{"population", "Total population: mid 2015 (excluding prisoners)", "Total", "All Ages"}
)

// maxTownBytes bounds each file ReadTown reads.
const maxTownBytes = 256 << 20

// ReadTown reads a town from a GeoJSON FeatureCollection of its small areas
// (Polygon or MultiPolygon features, WGS84 or British National Grid) and a CSV of
// their populations (gzip, a byte order mark and "1,296" handled; rows of other
// areas ignored). Every area needs a population. When every area's name is a stem,
// three digits and a letter ("Milton Keynes 001A"), as ONS names LSOAs, the MSOAs
// are derived by dissolving the LSOAs of each stem ("Milton Keynes 001"), with
// summed populations; they are left out when the boundaries do not share their
// borders exactly.
func ReadTown(areas, population io.Reader, o TownOptions) (*Town, error) {
	if o.Level == "" {
		o.Level = "lsoa"
	}
	if o.Name == "" {
		o.Name = "the town"
	}
	ab, err := readAllBounded(areas, "the boundary file")
	if err != nil {
		return nil, err
	}
	if o.CodeField == "" || o.NameField == "" {
		props, err := firstProperties(ab)
		if err != nil {
			return nil, err
		}
		if o.CodeField == "" {
			if o.CodeField = pick(props, AreaCodeProperties); o.CodeField == "" {
				return nil, geo.Errorf(geo.EINVALID, "the boundary file: no code property (looked for %s; its first feature has %s): name it",
					strings.Join(AreaCodeProperties, ", "), strings.Join(props, ", "))
			}
		}
		if o.NameField == "" {
			o.NameField = pick(props, AreaNameProperties) // the code when none
		}
	}
	af, err := geo.ReadAreas(bytes.NewReader(ab), geo.AreaReadOptions{Level: o.Level, CodeField: o.CodeField, NameField: o.NameField})
	if err != nil {
		return nil, fmt.Errorf("the boundary file: %w", err)
	}
	if len(af.Rejected) > 0 {
		return nil, geo.Errorf(geo.EINVALID, "the boundary file: %d features rejected; the first: %v", len(af.Rejected), af.Rejected[0])
	}
	if len(af.Areas) == 0 {
		return nil, geo.Errorf(geo.EINVALID, "the boundary file holds no areas")
	}

	pb, err := readAllBounded(population, "the population file")
	if err != nil {
		return nil, err
	}
	if o.PopulationCodeField == "" || o.PopulationField == "" {
		header, err := csvHeader(pb)
		if err != nil {
			return nil, err
		}
		if o.PopulationCodeField == "" {
			if o.PopulationCodeField = pick(header, PopulationCodeColumns); o.PopulationCodeField == "" {
				return nil, geo.Errorf(geo.EINVALID, "the population file, line 1: no code column (looked for %s; the columns are %s): name it",
					quoteAll(PopulationCodeColumns), quoteAll(header))
			}
		}
		if o.PopulationField == "" {
			if o.PopulationField = pick(header, PopulationColumns); o.PopulationField == "" {
				return nil, geo.Errorf(geo.EINVALID, "the population file, line 1: no population column (looked for %s; the columns are %s): name it",
					quoteAll(PopulationColumns), quoteAll(header))
			}
		}
	}
	pf, err := geo.ReadPopulation(bytes.NewReader(pb), geo.PopulationOptions{CodeField: o.PopulationCodeField, PopulationField: o.PopulationField})
	if err != nil {
		return nil, fmt.Errorf("the population file: %w", err)
	}
	if len(pf.Rejected) > 0 {
		return nil, geo.Errorf(geo.EINVALID, "the population file: %d rows rejected; the first: %v", len(pf.Rejected), pf.Rejected[0])
	}
	t := &Town{Name: o.Name, Level: geo.NormaliseName(o.Level), Areas: af.Areas}
	var missing []string
	total := 0
	for i := range t.Areas {
		n, ok := pf.Population[t.Areas[i].Code]
		if !ok {
			missing = append(missing, t.Areas[i].Code)
		}
		t.Areas[i].Population = n
		total += n
	}
	if len(missing) > 0 {
		return nil, geo.Errorf(geo.EINVALID, "the population file (columns %q and %q) has no population for %d of the %d areas, such as %s",
			o.PopulationCodeField, o.PopulationField, len(missing), len(t.Areas), strings.Join(missing[:min(5, len(missing))], ", "))
	}
	if total == 0 {
		return nil, geo.Errorf(geo.EINVALID, "the areas' populations sum to zero")
	}
	slices.SortFunc(t.Areas, func(a, b geo.Area) int { return cmp.Compare(a.Code, b.Code) })
	if t.Level == "lsoa" {
		t.deriveMSOAs()
	}
	return t, nil
}

func readAllBounded(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxTownBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(b) > maxTownBytes {
		return nil, geo.Errorf(geo.EINVALID, "%s is larger than %d MiB", what, maxTownBytes>>20)
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, geo.Errorf(geo.EINVALID, "%s: reading gzip: %v", what, err)
		}
		b, err = io.ReadAll(io.LimitReader(zr, maxTownBytes+1))
		if err != nil {
			return nil, geo.Errorf(geo.EINVALID, "%s: reading gzip: %v", what, err)
		}
		if len(b) > maxTownBytes {
			return nil, geo.Errorf(geo.EINVALID, "%s is larger than %d MiB decompressed", what, maxTownBytes>>20)
		}
	}
	return bytes.TrimPrefix(b, []byte("\ufeff")), nil
}

// firstProperties returns the property names of a FeatureCollection's first feature.
func firstProperties(b []byte) ([]string, error) {
	var fc struct {
		Features []struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, geo.Errorf(geo.EINVALID, "the boundary file is not a GeoJSON FeatureCollection: %v", err)
	}
	if len(fc.Features) == 0 {
		return nil, geo.Errorf(geo.EINVALID, "the boundary file holds no features")
	}
	var out []string
	for k := range fc.Features[0].Properties {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

func csvHeader(b []byte) ([]string, error) {
	h, err := csv.NewReader(bytes.NewReader(b)).Read()
	if err != nil {
		return nil, geo.Errorf(geo.EINVALID, "the population file, line 1: reading the header: %v", err)
	}
	return h, nil
}

// pick returns the first of want found in have, ignoring case, as have spells it.
func pick(have, want []string) string {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(strings.TrimSpace(h), w) {
				return strings.TrimSpace(h)
			}
		}
	}
	return ""
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

var lsoaName = regexp.MustCompile(`^(.+ \d{3})[A-Z]$`)

// deriveMSOAs groups LSOAs into MSOAs by name and dissolves each group's polygons,
// when every name has the ONS form and every group dissolves cleanly.
func (t *Town) deriveMSOAs() {
	groupOf := map[string]string{}
	members := map[string][]geo.Area{}
	for _, a := range t.Areas {
		m := lsoaName.FindStringSubmatch(a.Name)
		if m == nil {
			return
		}
		groupOf[a.Code] = m[1]
		members[m[1]] = append(members[m[1]], a)
	}
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	slices.Sort(names)
	codes := map[string]string{}
	var groups []geo.Area
	for _, n := range names {
		mp, err := dissolve(members[n])
		if err != nil {
			return
		}
		pop := 0
		for _, a := range members[n] {
			pop += a.Population
		}
		code := msoaCode(n)
		codes[n] = code
		groups = append(groups, geo.Area{Level: "msoa", Code: code, Name: n, Geometry: mp, Population: pop})
	}
	t.GroupLevel, t.Groups, t.GroupOf = "msoa", groups, map[string]string{}
	for c, n := range groupOf {
		t.GroupOf[c] = codes[n]
	}
}

// msoaCode makes a code of an MSOA's name: "Milton Keynes 001" is "MSOA-MILTON-KEYNES-001".
// (The ONS's own E02 codes are not in the LSOA files.)
func msoaCode(name string) string {
	var b strings.Builder
	b.WriteString("MSOA")
	dash := true
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			if dash {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// dissolve returns the union of areas whose neighbours share their borders vertex
// for vertex: every edge drawn by two of them (once each way) is inner and dropped,
// the rest are chained into rings. It fails when the edges left do not close into
// rings or the union's area differs from the sum of the parts, i.e. when borders are
// not shared exactly.
func dissolve(areas []geo.Area) (orb.MultiPolygon, error) {
	type edge struct{ a, b orb.Point }
	count := map[edge]int{}
	var order []edge
	sum := 0.0
	for _, ar := range areas {
		for _, p := range ar.Geometry {
			sum += math.Abs(planar.Area(p))
			for ri, r := range p {
				r = slices.Clone(r)
				want := orb.CCW
				if ri > 0 {
					want = orb.CW
				}
				if r.Orientation() != want {
					r.Reverse()
				}
				for i := 0; i+1 < len(r); i++ {
					e := edge{r[i], r[i+1]}
					if r[i] == r[i+1] {
						continue
					}
					if count[edge{e.b, e.a}] > 0 {
						count[edge{e.b, e.a}]--
						continue
					}
					count[e]++
					order = append(order, e)
				}
			}
		}
	}
	out := map[orb.Point][]orb.Point{}
	left := 0
	for _, e := range order {
		for n := count[e]; n > 0; n-- {
			out[e.a] = append(out[e.a], e.b)
			left++
		}
		count[e] = 0
	}
	var outers, holes []orb.Ring
	for _, e := range order {
		for len(out[e.a]) > 0 {
			start := e.a
			ring := orb.Ring{start}
			cur := start
			for {
				nexts := out[cur]
				if len(nexts) == 0 {
					return nil, fmt.Errorf("the border does not close at %v", cur)
				}
				nx := nexts[0]
				out[cur] = nexts[1:]
				left--
				ring = append(ring, nx)
				if nx == start {
					break
				}
				cur = nx
				if len(ring) > len(order)+1 {
					return nil, fmt.Errorf("the border does not close")
				}
			}
			if len(ring) < 4 {
				continue
			}
			if ring.Orientation() == orb.CCW {
				outers = append(outers, ring)
			} else {
				holes = append(holes, ring)
			}
		}
	}
	if left != 0 || len(outers) == 0 {
		return nil, fmt.Errorf("the borders do not chain into rings")
	}
	mp := make(orb.MultiPolygon, len(outers))
	for i, o := range outers {
		mp[i] = orb.Polygon{o}
	}
	for _, h := range holes {
		placed := false
		for i, o := range outers {
			if planar.RingContains(o, h[0]) || planar.RingContains(o, h[1]) {
				mp[i] = append(mp[i], h)
				placed = true
				break
			}
		}
		if !placed {
			return nil, fmt.Errorf("a hole lies in no ring")
		}
	}
	// A vertex lying on another ring's edge (not at its ends) is a T-junction: borders
	// that were not shared vertex for vertex, left undissolved.
	var rings []orb.Ring
	for _, p := range mp {
		rings = append(rings, p...)
	}
	for _, r := range rings {
		for _, v := range r[:len(r)-1] {
			for _, o := range rings {
				for i := 0; i+1 < len(o); i++ {
					if onSegment(v, o[i], o[i+1]) {
						return nil, fmt.Errorf("the border at %v is not shared vertex for vertex", v)
					}
				}
			}
		}
	}
	got := 0.0
	for _, p := range mp {
		got += math.Abs(planar.Area(p))
	}
	if math.Abs(got-sum) > 1e-9*math.Max(1, sum) {
		return nil, fmt.Errorf("the union's area %.9g differs from its parts' %.9g", got, sum)
	}
	return mp, nil
}

// onSegment reports whether v lies on segment a-b strictly between its ends.
func onSegment(v, a, b orb.Point) bool {
	if v == a || v == b {
		return false
	}
	cross := (b[0]-a[0])*(v[1]-a[1]) - (b[1]-a[1])*(v[0]-a[0])
	scale := math.Hypot(b[0]-a[0], b[1]-a[1])
	if math.Abs(cross) > 1e-12*scale {
		return false
	}
	return math.Min(a[0], b[0]) <= v[0] && v[0] <= math.Max(a[0], b[0]) && math.Min(a[1], b[1]) <= v[1] && v[1] <= math.Max(a[1], b[1])
}

// Describe says what the town holds, as the demo announces it: "Milton Keynes,
// 152 LSOAs in 32 MSOAs".
func (t *Town) Describe() string {
	what := fmt.Sprintf("%s, %d %s", t.Name, len(t.Areas), levelPlural(t.Level))
	if t.GroupLevel != "" {
		return what + fmt.Sprintf(" in %d %s", len(t.Groups), levelPlural(t.GroupLevel))
	}
	return what + " (no coarser level derived from their names)"
}

// levelPlural names areas of a level in the plural: "LSOAs", "wards".
func levelPlural(level string) string {
	switch level {
	case "oa", "lsoa", "msoa", "lad":
		return strings.ToUpper(level) + "s"
	}
	return level + "s"
}
