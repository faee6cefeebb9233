package geo

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// featureCollection writes a pretty-printed FeatureCollection, one feature a line
// after the given header members; the first feature is on line 4 plus the number of
// header members.
func featureCollection(members []string, features ...string) string {
	var b strings.Builder
	b.WriteString("{\n  \"type\": \"FeatureCollection\",\n")
	for _, m := range members {
		b.WriteString("  " + m + ",\n")
	}
	b.WriteString("  \"features\": [\n")
	for i, f := range features {
		b.WriteString("    " + f)
		if i < len(features)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

func TestGeoJSONReader(t *testing.T) {
	point := `{"type":"Feature","properties":{"source_ref":"A","strands":["race"]},"geometry":{"type":"Point","coordinates":[-0.7623,52.0339]}}`
	nullGeom := `{"type":"Feature","properties":{"source_ref":"B","precision":"online"},"geometry":null}`
	polygon := `{"type":"Feature","properties":{"source_ref":"C"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`
	bngPoint := `{"type":"Feature","properties":{"source_ref":"D"},"geometry":{"type":"Point","coordinates":[485000,238000]}}`
	tests := []struct {
		name      string
		content   string
		mapping   map[string]string
		want      []RawIncident
		errLines  []int
		errFields []string
		reasons   []string
	}{
		{
			name:    "points, lon first",
			content: featureCollection(nil, point, nullGeom),
			want: []RawIncident{
				{Line: 4, Index: 0, SourceRef: "A", Strands: "race", Lat: "52.0339", Lon: "-0.7623"},
				{Line: 5, Index: 1, SourceRef: "B", Precision: "online"},
			},
		},
		{
			name:     "polygon feature is a row error",
			content:  featureCollection(nil, point, polygon, nullGeom),
			want:     []RawIncident{{Line: 4, Index: 0, SourceRef: "A", Strands: "race", Lat: "52.0339", Lon: "-0.7623"}, {Line: 6, Index: 2, SourceRef: "B", Precision: "online"}},
			errLines: []int{5}, errFields: []string{"geometry"}, reasons: []string{"is a Polygon; an incident is a Point"},
		},
		{
			name:    "British National Grid crs",
			content: featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}`}, bngPoint),
			want:    []RawIncident{{Line: 5, Index: 0, SourceRef: "D", Easting: "485000", Northing: "238000"}},
		},
		{
			name:    "WGS84 crs names",
			content: featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}`, `"name": "incidents"`, `"bbox": [-1, 51, 0, 53]`}, point),
			want:    []RawIncident{{Line: 7, Index: 0, SourceRef: "A", Strands: "race", Lat: "52.0339", Lon: "-0.7623"}},
		},
		{
			name:    "mapping",
			content: featureCollection(nil, `{"type":"Feature","properties":{"Ref":"E","When":"2024-01-02","source_ref":"not this"},"geometry":null}`),
			mapping: map[string]string{"source_ref": "ref", "occurred": "when"},
			want:    []RawIncident{{Line: 4, Index: 0, SourceRef: "E", Occurred: "2024-01-02"}},
		},
		{
			name: "bad features",
			content: featureCollection(nil,
				`{"type":"Fixture","properties":{},"geometry":null}`,
				`{"type":"Feature","properties":[1],"geometry":null}`,
				`{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1]}}`,
				`{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":["1","2"]}}`,
				`{"type":"Feature","properties":{},"geometry":"here"}`,
				`{"type":"Feature","properties":{"lat":{"deg":1}},"geometry":null}`,
				`7`,
				`{"type":"Feature","properties":null,"geometry":null}`,
			),
			want:      []RawIncident{{Line: 11, Index: 7}},
			errLines:  []int{4, 5, 6, 7, 8, 9, 10},
			errFields: []string{"type", "properties", "geometry", "geometry", "geometry", "lat", ""},
			reasons:   []string{`is "Fixture"; want Feature`, "not an object", "needs coordinates", "not numbers", "not an object", "is an object", "is a JSON number"},
		},
		{
			name:    "features before type, members after",
			content: "{\"features\": [\n" + point + "\n], \"type\": \"FeatureCollection\", \"name\": \"x\"}",
			want:    []RawIncident{{Line: 2, Index: 0, SourceRef: "A", Strands: "race", Lat: "52.0339", Lon: "-0.7623"}},
		},
		{
			name: "a key given twice in properties, geometry or the feature",
			content: featureCollection(nil,
				`{"type":"Feature","properties":{"source_ref":"A","source_ref":"B"},"geometry":null}`,
				`{"type":"Feature","properties":{"source_ref":"C"},"geometry":{"type":"Point","coordinates":[1,2],"coordinates":[3,4]}}`,
				`{"type":"Feature","properties":{"source_ref":"D"},"geometry":null,"geometry":{"type":"Point","coordinates":[1,2]}}`,
				`{"type":"Feature","properties":{"colour":1,"colour":2},"geometry":null}`,
				point),
			want:      []RawIncident{{Line: 8, Index: 4, SourceRef: "A", Strands: "race", Lat: "52.0339", Lon: "-0.7623"}},
			errLines:  []int{4, 5, 6, 7},
			errFields: []string{"source_ref", "geometry.coordinates", "geometry", "colour"},
			reasons: []string{`field "source_ref" appears twice`, `field "geometry.coordinates" appears twice`, `field "geometry" appears twice`,
				`field "colour" appears twice`},
		},
		{
			name:    "no features",
			content: `{"type":"FeatureCollection","features":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openInput(t, tt.content, ReaderOptions{Mapping: tt.mapping})
			if got := ReaderFormat(r); got != FormatGeoJSON {
				t.Errorf("got format %q, want %q", got, FormatGeoJSON)
			}
			res := drain(t, r)
			if res.fatal != nil {
				t.Fatalf("got fatal error %v, want none", res.fatal)
			}
			checkRecords(t, res, tt.want, tt.errLines, tt.errFields, tt.reasons)
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("got %v after the end, want io.EOF", err)
			}
		})
	}
}

func TestGeoJSONBNGValidated(t *testing.T) {
	content := featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "EPSG:27700"}}`},
		`{"type":"Feature","properties":{"source":"police","source_ref":"D","kind":"crime","strands":"race","occurred":"2024-01-02"},"geometry":{"type":"Point","coordinates":[485000,238000]}}`)
	res := readInput(t, content, ReaderOptions{Format: FormatGeoJSON})
	if len(res.records) != 1 {
		t.Fatalf("got %d records, want 1", len(res.records))
	}
	in, err := buildValidator(t, ValidatorOptions{}).Validate(res.records[0])
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := LatLon{52.0339, -0.7623}
	if d := Distance(in.Location, want); d > 5 {
		t.Errorf("got %v, %.1f m from %v, want within 5 m", in.Location, d, want)
	}
}

func TestGeoJSONFatal(t *testing.T) {
	tests := []struct {
		name    string
		content string
		open    bool // the error comes from NewReader
		records int
		want    []string
	}{
		{"unsupported crs", featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}`}, `{"type":"Feature","properties":{},"geometry":null}`),
			false, 0, []string{`crs "urn:ogc:def:crs:EPSG::3857" is not supported`}},
		{"not a FeatureCollection", `{"type":"Feature","properties":{},"geometry":null}`, false, 0, []string{"line 1", `GeoJSON type is "Feature"`}},
		{"type not text", "{\n\"type\": 5, \"features\": []}", false, 0, []string{"line 2", "GeoJSON type is 5; want FeatureCollection"}},
		{"crs not an object", `{"type":"FeatureCollection","crs": 7, "features": []}`, false, 0, []string{"line 1", "GeoJSON crs is not a named crs"}},
		{"crs name not text", `{"type":"FeatureCollection","crs": {"properties": {"name": 27700}}, "features": []}`, false, 0, []string{"GeoJSON crs is not a named crs"}},
		{"features not an array", `{"type":"FeatureCollection","features":{}}`, false, 0, []string{"want the features array"}},
		{"truncated after a feature", strings.TrimSuffix(featureCollection(nil, `{"type":"Feature","properties":{},"geometry":null}`), "  ]\n}\n"), false, 1, []string{"line"}},
		{"truncated in a feature", "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\n\"properties\":{", false, 0, []string{"line 2", "malformed JSON"}}, // the feature's first line
		{"features twice", "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}],\n\"features\":[]}",
			false, 1, []string{"line 3", `field "features" appears twice in the FeatureCollection`}},
		{"crs twice", featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "EPSG:27700"}}`, `"crs": {"type": "name", "properties": {"name": "EPSG:4326"}}`}),
			false, 0, []string{"line 4", `field "crs" appears twice`}},
		{"not an object", `["FeatureCollection"]`, true, 0, []string{"line 1", "want a GeoJSON FeatureCollection object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.content), ReaderOptions{Format: FormatGeoJSON})
			if tt.open {
				wantErrCode(t, err, EINVALID, tt.want...)
				return
			}
			if err != nil {
				t.Fatalf("NewReader: got error %v, want none", err)
			}
			res := drain(t, r)
			if len(res.records) != tt.records {
				t.Errorf("got %d records, want %d", len(res.records), tt.records)
			}
			var re *RowError
			if errors.As(res.fatal, &re) {
				t.Fatalf("got row error %v, want a fatal error", res.fatal)
			}
			wantErrCode(t, res.fatal, EINVALID, tt.want...)
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("got %v after a fatal error, want io.EOF", err)
			}
		})
	}
}

// TestGeoJSONLongFeature checks that a feature over the record limit is a row error
// and the next feature is read, in incidents and in areas alike.
func TestGeoJSONLongFeature(t *testing.T) {
	long := `{"type":"Feature","properties":{"source_ref":"` + strings.Repeat("z", DefaultMaxRecord) + `"},"geometry":null}`
	t.Run("incidents", func(t *testing.T) {
		res := drain(t, openInput(t, featureCollection(nil, long, `{"type":"Feature","properties":{"source_ref":"B"},"geometry":null}`), ReaderOptions{}))
		if res.fatal != nil {
			t.Fatalf("got fatal error %v, want none", res.fatal)
		}
		checkRecords(t, res, []RawIncident{{Line: 5, Index: 1, SourceRef: "B"}}, []int{4}, []string{""}, []string{"a record longer than 1 MiB (the record cap)"})
	})
	t.Run("areas", func(t *testing.T) {
		f, err := ReadAreas(strings.NewReader(featureCollection(nil, long, areaFeature("E1", "", squareWithHole))), areaOpts)
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		if len(f.Areas) != 1 || len(f.Rejected) != 1 || f.Rejected[0].Line != 4 || !strings.Contains(f.Rejected[0].Reason, "longer than") {
			t.Errorf("got %d areas and rejected %v, want 1 and one over-long feature on line 4", len(f.Areas), f.Rejected)
		}
	})
}
