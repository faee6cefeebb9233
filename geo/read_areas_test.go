package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// areaFeature writes a GeoJSON feature with a code and a name (each left out when
// nil or empty) and a geometry.
func areaFeature(code any, name, geometry string) string {
	props := map[string]any{}
	if code != nil && code != "" {
		props["CODE"] = code
	}
	if name != "" {
		props["NAME"] = name
	}
	p, err := json.Marshal(props)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`{"type":"Feature","properties":%s,"geometry":%s}`, p, geometry)
}

const (
	squareWithHole = `{"type":"Polygon","coordinates":[[[-1,52],[0,52],[0,53],[-1,53],[-1,52]],[[-0.75,52.25],[-0.25,52.25],[-0.25,52.75],[-0.75,52.75],[-0.75,52.25]]]}`
	twoSquares     = `{"type":"MultiPolygon","coordinates":[[[[1,52],[2,52],[2,53],[1,53],[1,52]]],[[[3,52],[4,52],[4,53],[3,53],[3,52]]]]}`
	unclosedSquare = `{"type":"Polygon","coordinates":[[[-2,52],[-1,52],[-1,53],[-2,53]]]}`
)

var areaOpts = AreaReadOptions{Level: "LSOA", CodeField: "CODE", NameField: "NAME"}

func TestReadAreas(t *testing.T) {
	content := featureCollection(nil,
		areaFeature("E01000001", "With a hole", squareWithHole),                      // line 4
		areaFeature("E01000002", "Two squares", twoSquares),                          // 5
		areaFeature("", "No code", squareWithHole),                                   // 6
		areaFeature("E01000001", "Again", squareWithHole),                            // 7
		areaFeature("E01000003", "A point", `{"type":"Point","coordinates":[0,52]}`), // 8
		areaFeature("E01000004", "", unclosedSquare),                                 // 9
		areaFeature("E01000005", "Grid numbers", `{"type":"Polygon","coordinates":[[[485000,238000],[486000,238000],[486000,239000],[485000,238000]]]}`), // 10
		areaFeature("E01000006", "No geometry", "null"),                                                            // 11
		areaFeature("E01000007", "Short ring", `{"type":"Polygon","coordinates":[[[0,52],[1,52],[0,52]]]}`),        // 12
		areaFeature("E01000008", "Bad coordinates", `{"type":"Polygon","coordinates":[[["a","b"]]]}`),              // 13
		areaFeature(" E01000009 ", " Spaced ", `{"type":"Polygon","coordinates":[[[5,52],[6,52],[6,53],[5,52]]]}`), // 14
		areaFeature("E01000010", "No rings", `{"type":"Polygon","coordinates":[]}`),                                // 15
		areaFeature("E01000011", "One number", `{"type":"Polygon","coordinates":[[[0],[1,52],[1,53],[0,52]]]}`),    // 16
		areaFeature("E01000012", "Bad multi", `{"type":"MultiPolygon","coordinates":[[[0,52]]]}`),                  // 17
		areaFeature("E01000013", "Control\u0007", squareWithHole),                                                  // 18
		areaFeature("E01000014", "Empty multi", `{"type":"MultiPolygon","coordinates":[]}`),                        // 19
	)
	for _, enc := range []struct {
		name    string
		content []byte
	}{{"plain", []byte(content)}, {"gzip with BOM", gzipped(t, append(slices.Clone(bom), content...))}} {
		t.Run(enc.name, func(t *testing.T) {
			f, err := ReadAreas(bytes.NewReader(enc.content), areaOpts)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			var codes, names []string
			for _, a := range f.Areas {
				codes = append(codes, a.Code)
				names = append(names, a.Name)
				if a.Level != "lsoa" {
					t.Errorf("%s: got level %q, want lsoa", a.Code, a.Level)
				}
				for _, p := range a.Geometry {
					for _, r := range p {
						if !r.Closed() {
							t.Errorf("%s: got an open ring %v, want it closed", a.Code, r)
						}
					}
				}
			}
			if want := []string{"E01000001", "E01000002", "E01000004", "E01000009"}; !slices.Equal(codes, want) {
				t.Errorf("got codes %q, want %q", codes, want)
			}
			if want := []string{"With a hole", "Two squares", "E01000004", "Spaced"}; !slices.Equal(names, want) {
				t.Errorf("got names %q, want %q", names, want)
			}
			if len(f.Areas) == 4 {
				if got := len(f.Areas[0].Geometry); got != 1 || len(f.Areas[0].Geometry[0]) != 2 {
					t.Errorf("got %d polygons, want 1 with a hole", got)
				}
				if got := len(f.Areas[1].Geometry); got != 2 {
					t.Errorf("got %d polygons, want 2", got)
				}
				want := orb.Ring{{-2, 52}, {-1, 52}, {-1, 53}, {-2, 53}, {-2, 52}}
				if got := f.Areas[2].Geometry[0][0]; !got.Equal(want) {
					t.Errorf("got ring %v, want %v", got, want)
				}
			}
			rejected := []struct {
				line          int
				field, reason string
			}{
				{6, "CODE", "no code"},
				{7, "CODE", "code E01000001 appears again (first on line 4)"},
				{8, "geometry", "is a Point; an area is a Polygon or MultiPolygon"},
				{10, "geometry", "is the file in another projection?"},
				{11, "geometry", "no geometry"},
				{12, "geometry", "ring 1 has 3 positions"},
				{13, "geometry", "not rings of [x, y] positions"},
				{15, "geometry", "polygon 1 has no rings"},
				{16, "geometry", "position 1 has fewer than 2 numbers"},
				{17, "geometry", "multipolygon coordinates"},
				{18, "NAME", "control character"},
				{19, "geometry", "multipolygon has no polygons"},
			}
			if len(f.Rejected) != len(rejected) {
				t.Errorf("got %d rejected (%v), want %d", len(f.Rejected), f.Rejected, len(rejected))
			}
			for i := range min(len(rejected), len(f.Rejected)) {
				got, want := f.Rejected[i], rejected[i]
				if got.Line != want.line || got.Field != want.field || !strings.Contains(got.Reason, want.reason) {
					t.Errorf("rejection %d: got %v (field %q), want line %d field %q mentioning %q", i, got, got.Field, want.line, want.field, want.reason)
				}
			}
		})
	}
}

func TestReadAreasCodes(t *testing.T) {
	tests := []struct {
		name     string
		feature  string
		wantCode string
		wantRej  string
	}{
		{"numeric code", areaFeature(123, "Beat 123", squareWithHole), "123", ""},
		{"code too large for a float kept exactly", `{"type":"Feature","properties":{"CODE":12345678901234567890},"geometry":` + squareWithHole + `}`, "12345678901234567890", ""},
		{"numeric code written as a number", `{"type":"Feature","properties":{"CODE":12345678901234567},"geometry":` + squareWithHole + `}`, "12345678901234567", ""},
		{"boolean code", areaFeature(true, "", squareWithHole), "true", ""},
		{"object code", `{"type":"Feature","properties":{"CODE":{"a":1}},"geometry":` + squareWithHole + `}`, "", "is an object"},
		{"no properties", `{"type":"Feature","geometry":` + squareWithHole + `}`, "", "no code"},
		{"code too long", areaFeature(strings.Repeat("E", 101), "", squareWithHole), "", "longer than 100"},
		{"code given twice", `{"type":"Feature","properties":{"CODE":"E1","CODE":"E2"},"geometry":` + squareWithHole + `}`, "", `field "properties.CODE" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadAreas(strings.NewReader(featureCollection(nil, tt.feature)), areaOpts)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tt.wantRej != "" {
				if len(f.Rejected) != 1 || !strings.Contains(f.Rejected[0].Reason, tt.wantRej) {
					t.Errorf("got rejected %v, want one mentioning %q", f.Rejected, tt.wantRej)
				}
				return
			}
			if len(f.Areas) != 1 || f.Areas[0].Code != tt.wantCode {
				t.Errorf("got areas %v rejected %v, want code %q", f.Areas, f.Rejected, tt.wantCode)
			}
		})
	}
}

func TestReadAreasBNG(t *testing.T) {
	content := featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}`},
		areaFeature("E05000001", "Ward", `{"type":"Polygon","coordinates":[[[485000,238000],[486000,238000],[486000,239000],[485000,239000],[485000,238000]]]}`),
		areaFeature("E05000002", "Off the grid", `{"type":"Polygon","coordinates":[[[-10000000,5000000],[486000,238000],[486000,239000],[-10000000,5000000]]]}`),
		areaFeature("E05000003", "Far off the grid", `{"type":"Polygon","coordinates":[[[1e300,1e300],[486000,238000],[486000,239000],[1e300,1e300]]]}`),
	)
	f, err := ReadAreas(strings.NewReader(content), AreaReadOptions{Level: "ward", CodeField: "CODE"})
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if len(f.Areas) != 1 {
		t.Fatalf("got %d areas, want 1", len(f.Areas))
	}
	ring := f.Areas[0].Geometry[0][0]
	if d := Distance(LatLon{ring[0][1], ring[0][0]}, LatLon{52.0339, -0.7623}); d > 5 {
		t.Errorf("got first vertex %v, %.1f m from 52.0339,-0.7623, want within 5 m", ring[0], d)
	}
	if f.Areas[0].Name != "E05000001" {
		t.Errorf("got name %q, want the code without a name field", f.Areas[0].Name)
	}
	ix := NewAreaIndex([]Area{{ID: 1, Geometry: f.Areas[0].Geometry}})
	lat, lon := BNGToWGS84(485500, 238500)
	if got := ix.Containing(nil, LatLon{lat, lon}); !slices.Equal(got, []int32{1}) {
		t.Errorf("got %v for the ward's middle, want [1]", got)
	}
	if len(f.Rejected) != 2 {
		t.Fatalf("got rejected %v, want 2", f.Rejected)
	}
	for _, r := range f.Rejected {
		if r.Field != "geometry" || !strings.Contains(r.Reason, "British National Grid") {
			t.Errorf("got %v, want a geometry rejection naming the British National Grid", r)
		}
	}
}

func TestReadAreasErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		o       AreaReadOptions
		want    []string
	}{
		{"no level", featureCollection(nil), AreaReadOptions{CodeField: "CODE"}, []string{"area level is required"}},
		{"no code field", featureCollection(nil), AreaReadOptions{Level: "ward"}, []string{"code field is required"}},
		{"no features", featureCollection(nil), areaOpts, []string{"holds no features"}},
		{"empty file", "", areaOpts, []string{"line 1"}},
		{"not GeoJSON", "code,name\nE01,x\n", areaOpts, []string{"line 1"}},
		{"unsupported crs", featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "EPSG:3857"}}`}, areaFeature("E1", "", squareWithHole)), areaOpts, []string{"EPSG:3857"}},
		{"truncated", strings.TrimSuffix(featureCollection(nil, areaFeature("E1", "", squareWithHole)), "  ]\n}\n"), areaOpts, []string{"line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadAreas(strings.NewReader(tt.content), tt.o)
			if f != nil {
				t.Errorf("got %+v, want nil", f)
			}
			wantErrCode(t, err, EINVALID, tt.want...)
		})
	}
}

func TestReadPopulation(t *testing.T) {
	body := crlf(
		`LSOA Code,LSOA Name,"All Ages"`,
		`E01000001,City of London 001A,"1,296"`,
		`E01000002,City of London 001B,1 156`,
		`E01000003,"Camden, 001A",987`,
		`E01000004,Camden 001B,lots`,
		`,Camden 001C,12`,
		`E01000005,Camden 001D`,
		`E01000006,Camden 001E,-3`,
		`E01000007,"Camden`,
		`001F",   42  `,
		`E01000008,Camden "001G",1`,
		`E01000009,Camden 001H,`,
	)
	o := PopulationOptions{CodeField: "lsoa code", PopulationField: " all ages "}
	for _, enc := range []struct {
		name    string
		content []byte
	}{{"plain", []byte(body)}, {"BOM", append(slices.Clone(bom), body...)}, {"gzip with BOM", gzipped(t, append(slices.Clone(bom), body...))}} {
		t.Run(enc.name, func(t *testing.T) {
			f, err := ReadPopulation(bytes.NewReader(enc.content), o)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			want := map[string]int{"E01000001": 1296, "E01000002": 1156, "E01000003": 987, "E01000007": 42}
			if len(f.Population) != len(want) {
				t.Errorf("got %v, want %v", f.Population, want)
			}
			for k, v := range want {
				if f.Population[k] != v {
					t.Errorf("%s: got %d, want %d", k, f.Population[k], v)
				}
			}
			rejected := []struct {
				line          int
				field, reason string
			}{
				{5, "all ages ", `"lots" is not a whole number`},
				{6, "lsoa code", "no code"},
				{7, "", "has 2 fields, the header has 3"},
				{8, "all ages ", `"-3" is negative`},
				{11, "", "malformed CSV"},
				{12, "all ages ", "no number"},
			}
			if len(f.Rejected) != len(rejected) {
				t.Errorf("got %d rejected (%v), want %d", len(f.Rejected), f.Rejected, len(rejected))
			}
			for i := range min(len(rejected), len(f.Rejected)) {
				got, want := f.Rejected[i], rejected[i]
				if got.Line != want.line || !strings.Contains(got.Reason, want.reason) {
					t.Errorf("rejection %d: got %v, want line %d mentioning %q", i, got, want.line, want.reason)
				}
				if strings.TrimSpace(got.Field) != strings.TrimSpace(want.field) {
					t.Errorf("rejection %d: got field %q, want %q", i, got.Field, want.field)
				}
			}
		})
	}
}

func TestReadPopulationHeader(t *testing.T) {
	o := PopulationOptions{CodeField: "LSOA code", PopulationField: "All Ages"}
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{"no code column", "Area,All Ages\n", []string{"line 1", `no column "LSOA code"`, "columns are: Area, All Ages"}},
		{"no population column", "LSOA code,Population\n", []string{"line 1", `no column "All Ages"`, "columns are: LSOA code, Population"}},
		{"empty", "", []string{"line 1"}},
		{"malformed", "\"LSOA code,All Ages\n", []string{"line 1", "malformed CSV"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadPopulation(strings.NewReader(tt.content), o)
			if f != nil {
				t.Errorf("got %+v, want nil", f)
			}
			wantErrCode(t, err, EINVALID, tt.want...)
		})
	}
}

func TestParseCount(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{"0", 0, ""},
		{"1296", 1296, ""},
		{"1,296", 1296, ""},
		{" 1 296 ", 1296, ""},
		{"1\u00a0296", 1296, ""},
		{"1_296", 1296, ""},
		{"12,345,678", 12345678, ""},
		{"", 0, "no number"},
		{" , ", 0, "no number"},
		{"-5", 0, `"-5" is negative`},
		{"1.5", 0, `"1.5" is not a whole number`},
		{"12a", 0, "is not a whole number"},
		{"99999999999999999999", 0, "is not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCount(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %d, %v; want an error mentioning %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func square(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestAreaIndexContaining(t *testing.T) {
	areas := []Area{
		{ID: 5, Geometry: orb.MultiPolygon{{square(0, 0, 10, 10), square(4, 4, 6, 6)}}}, // with a hole
		{ID: 2, Geometry: orb.MultiPolygon{{square(10, 0, 20, 10)}}},                    // shares the edge x=10
		{ID: 9, Geometry: orb.MultiPolygon{{square(30, 0, 31, 1)}, {square(40, 0, 41, 1)}}},
		{ID: 3, Geometry: orb.MultiPolygon{{square(-5, -5, 25, 25)}, {square(0, 0, 1, 1)}}},  // two parts covering one point
		{ID: 7, Geometry: orb.MultiPolygon{{orb.Ring{{50, 0}, {60, 0}, {55, 10}, {50, 0}}}}}, // a triangle
		{ID: 8, Geometry: orb.MultiPolygon{{}}},                                              // an empty polygon is skipped
	}
	ix := NewAreaIndex(areas)
	if ix.Len() != len(areas) {
		t.Errorf("got Len %d, want %d", ix.Len(), len(areas))
	}
	tests := []struct {
		name string
		p    LatLon // Lat is y, Lon is x
		want []int32
	}{
		{"inside", LatLon{Lat: 2, Lon: 2}, []int32{3, 5}},
		{"outside everything", LatLon{Lat: 100, Lon: 100}, nil},
		{"on an edge", LatLon{Lat: 0, Lon: 2}, []int32{3, 5}},
		{"on a vertex", LatLon{Lat: 0, Lon: 0}, []int32{3, 5}},
		{"on the far vertex", LatLon{Lat: 10, Lon: 20}, []int32{2, 3}},
		{"in the hole", LatLon{Lat: 5, Lon: 5}, []int32{3}},
		{"on the hole's edge", LatLon{Lat: 5, Lon: 4}, []int32{3, 5}},
		{"on the hole's vertex", LatLon{Lat: 6, Lon: 6}, []int32{3, 5}},
		{"on the shared edge", LatLon{Lat: 5, Lon: 10}, []int32{2, 3, 5}},
		{"on the shared edge's end", LatLon{Lat: 10, Lon: 10}, []int32{2, 3, 5}},
		{"second part of a multipolygon", LatLon{Lat: 0.5, Lon: 40.5}, []int32{9}},
		{"between the parts", LatLon{Lat: 0.5, Lon: 35}, nil},
		{"inside the triangle", LatLon{Lat: 5, Lon: 55}, []int32{7}},
		{"beside the triangle in its box", LatLon{Lat: 9, Lon: 51}, nil},
		{"triangle apex", LatLon{Lat: 10, Lon: 55}, []int32{7}},
		{"just outside", LatLon{Lat: 0.5, Lon: 41.0000001}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ix.Containing(nil, tt.p)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("appends to dst", func(t *testing.T) {
		dst := []int32{99, 1}
		got := ix.Containing(dst, LatLon{Lat: 0.5, Lon: 0.5}) // area 3 twice (both its parts) and 5
		if want := []int32{99, 1, 3, 5}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v (sorted and unique after dst)", got, want)
		}
	})
}
