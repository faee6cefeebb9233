package geo

import (
	"strings"
	"testing"
)

func TestSniffPrettyGeoJSONWithTypeLate(t *testing.T) {
	doc := "{\n  \"name\": \"" + strings.Repeat("x", 5000) + "\",\n  \"features\": [\n" +
		"    {\"type\": \"Feature\", \"properties\": {\"source_ref\": \"G1\"}, \"geometry\": {\"type\": \"Point\", \"coordinates\": [-0.76, 52.04]}}\n" +
		"  ],\n  \"type\": \"FeatureCollection\"\n}\n"
	r, err := NewReader(strings.NewReader(doc), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ReaderFormat(r); got != FormatGeoJSON {
		t.Fatalf("got format %q, want geojson", got)
	}
	raw, err := r.Next()
	if err != nil || raw.SourceRef != "G1" || raw.Lat != "52.04" {
		t.Errorf("got %+v, %v", raw, err)
	}
}

func TestReadAreasClosesAThreeCornerRing(t *testing.T) {
	doc := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"c":"T1"},"geometry":{"type":"Polygon","coordinates":[[[0,52],[1,52],[0,53]]]}}]}`
	f, err := ReadAreas(strings.NewReader(doc), AreaReadOptions{Level: "beat", CodeField: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Areas) != 1 || len(f.Areas[0].Geometry[0][0]) != 4 {
		t.Fatalf("got %+v rejected %v; want one triangle closed to 4 positions", f.Areas, f.Rejected)
	}
}
