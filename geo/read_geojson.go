package geo

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// geojsonReader streams the features of a GeoJSON FeatureCollection. Each feature is
// an incident: its properties are project columns (or mapped keys) and its geometry a
// Point, or null for a report with no place. Coordinates are WGS84 longitude and
// latitude, or British National Grid easting and northing when the collection's
// legacy "crs" member names EPSG:27700 before the features.
type geojsonReader struct {
	sd     *streamDecoder
	fields jsonFields
	bng    bool
	inFeat bool
	done   bool
	index  int

	members map[string]bool // the collection's members read so far, of features, type and crs
}

func newGeoJSONReader(r io.Reader, mapping map[string]string, lim Limits) (*geojsonReader, error) {
	gr := &geojsonReader{sd: newStreamDecoder(r, lim), fields: newJSONFields(mapping, lim)}
	if err := gr.sd.delim('{', "a GeoJSON FeatureCollection object"); err != nil {
		return nil, err
	}
	return gr, nil
}

// advance reads top-level members until the features array opens or the object ends.
func (gr *geojsonReader) advance() error {
	for gr.sd.arm(); gr.sd.dec.More(); gr.sd.arm() {
		tok, err := gr.sd.dec.Token()
		if err != nil {
			return gr.sd.fatal(err)
		}
		key, _ := tok.(string)
		switch key {
		case "features", "type", "crs":
			// The members that decide how features are read may not be given twice:
			// a second features array or crs would be read on a guess.
			if gr.members[key] {
				return Errorf(EINVALID, "line %d: field %q appears twice in the FeatureCollection", gr.sd.lines.lineAt(gr.sd.dec.InputOffset()), key)
			}
			if gr.members == nil {
				gr.members = map[string]bool{}
			}
			gr.members[key] = true
		}
		switch key {
		case "features":
			if err := gr.sd.delim('[', "the features array"); err != nil {
				return err
			}
			gr.inFeat = true
			return nil
		case "type":
			// Read as raw JSON first, so that a type that is not a string is reported
			// as a wrong type rather than as a JSON value of the wrong kind.
			var raw json.RawMessage
			if err := gr.sd.dec.Decode(&raw); err != nil {
				return gr.sd.fatal(err)
			}
			var typ string
			if json.Unmarshal(raw, &typ) != nil || typ != "FeatureCollection" {
				return Errorf(EINVALID, "line %d: GeoJSON type is %s; want FeatureCollection", gr.sd.lines.lineAt(gr.sd.dec.InputOffset()), raw)
			}
		case "crs":
			var raw json.RawMessage
			if err := gr.sd.dec.Decode(&raw); err != nil {
				return gr.sd.fatal(err)
			}
			var crs struct {
				Properties struct{ Name string } `json:"properties"`
			}
			if json.Unmarshal(raw, &crs) != nil {
				return Errorf(EINVALID, "line %d: GeoJSON crs is not a named crs such as {\"type\": \"name\", \"properties\": {\"name\": \"EPSG:27700\"}}", gr.sd.lines.lineAt(gr.sd.dec.InputOffset()))
			}
			name := crs.Properties.Name
			switch {
			case strings.HasSuffix(name, "27700"):
				gr.bng = true
			case name == "", strings.HasSuffix(name, "CRS84"), strings.HasSuffix(name, "4326"):
			default:
				return Errorf(EINVALID, "GeoJSON crs %q is not supported: want WGS84 (CRS84, EPSG:4326) or British National Grid (EPSG:27700)", name)
			}
		default:
			var skip json.RawMessage
			if err := gr.sd.dec.Decode(&skip); err != nil {
				return gr.sd.fatal(err)
			}
		}
	}
	if err := gr.sd.delim('}', "the end of the FeatureCollection"); err != nil {
		return err
	}
	gr.done = true
	return nil
}

func (gr *geojsonReader) Next() (*RawIncident, error) {
	data, line, index, err := gr.nextFeature()
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, &RowError{Line: line, Index: index, Reason: recordCapReason(gr.sd.max)}
	}
	return gr.feature(data, line, index)
}

func (gr *geojsonReader) feature(data []byte, line, index int) (*RawIncident, error) {
	raw := &RawIncident{Line: line, Index: index}
	bad := func(field, format string, args ...any) (*RawIncident, error) {
		return nil, &RowError{Line: line, Index: index, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	obj, rerr := gr.fields.record(raw, data, "feature")
	if rerr != nil {
		rerr.Text = string(data)
		return nil, rerr
	}
	if t, _ := obj["type"].(string); t != "Feature" {
		return bad("type", "is %q; want Feature", t)
	}
	switch props := obj["properties"].(type) {
	case nil:
	case map[string]any:
		if rerr := gr.fields.fill(raw, props); rerr != nil {
			return nil, rerr
		}
	default:
		return bad("properties", "is not an object")
	}
	switch geom := obj["geometry"].(type) {
	case nil:
	case map[string]any:
		if t, _ := geom["type"].(string); t != "Point" {
			return bad("geometry", "is a %s; an incident is a Point", t)
		}
		coords, ok := geom["coordinates"].([]any)
		if !ok || len(coords) < 2 {
			return bad("geometry", "a Point needs coordinates [x, y]")
		}
		x, ok1 := coords[0].(json.Number)
		y, ok2 := coords[1].(json.Number)
		if !ok1 || !ok2 {
			return bad("geometry", "coordinates are not numbers")
		}
		for _, c := range []json.Number{x, y} {
			if msg := checkField(c.String(), gr.fields.maxField); msg != "" {
				return bad("geometry", "a coordinate is %s", msg)
			}
		}
		if gr.bng {
			raw.Easting, raw.Northing = x.String(), y.String()
		} else {
			raw.Lon, raw.Lat = x.String(), y.String()
		}
	default:
		return bad("geometry", "is not an object")
	}
	return raw, nil
}
