package geo

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// AreaReadOptions names the properties of a boundary file.
type AreaReadOptions struct {
	Level     string // e.g. "lsoa", "ward", "beat"
	CodeField string // property holding the area's code, e.g. LSOA11CD
	NameField string // property holding its name, e.g. LSOA11NM; the code when empty
}

// AreaFile is what ReadAreas found: the areas and each feature it rejected.
type AreaFile struct {
	Areas    []Area
	Rejected []*RowError
}

// ReadAreas reads a GeoJSON FeatureCollection of Polygon and MultiPolygon features
// (WGS84, or British National Grid when its crs says EPSG:27700; gzip handled),
// streaming feature by feature. A feature without a code or polygon is rejected with
// its line and reason; the others are kept. A code seen twice is rejected the second
// time.
func ReadAreas(r io.Reader, o AreaReadOptions) (*AreaFile, error) {
	level := NormaliseName(o.Level)
	if level == "" {
		return nil, Errorf(EINVALID, "an area level is required (e.g. lsoa, ward, beat)")
	}
	if o.CodeField == "" {
		return nil, Errorf(EINVALID, "the code field is required (e.g. LSOA11CD)")
	}
	br, err := decompress(r, DefaultMaxDecompressed)
	if err != nil {
		return nil, err
	}
	gr, err := newGeoJSONReader(br, nil, Limits{})
	if err != nil {
		return nil, err
	}
	out := &AreaFile{}
	seen := map[string]int{}
	for {
		data, line, index, err := gr.nextFeature()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		bad := func(field, format string, args ...any) {
			out.Rejected = append(out.Rejected, &RowError{Line: line, Index: index, Field: field, Reason: fmt.Sprintf(format, args...)})
		}
		if data == nil {
			bad("", "%s", recordCapReason(gr.sd.max))
			continue
		}
		var f struct {
			Type       string          `json:"type"`
			Properties map[string]any  `json:"properties"`
			Geometry   json.RawMessage `json:"geometry"`
		}
		// Numbers stay as written: a numeric code such as a beat number must not pass
		// through a float (jsonText takes no float64, and large ones would round).
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&f); err != nil {
			bad("", "feature %v", jsonReason(err))
			continue
		}
		if path := duplicateKey(data); path != nil {
			name := strings.Join(path, ".")
			bad(name, "field %q appears twice", name)
			continue
		}
		code, err := jsonText(f.Properties[o.CodeField])
		if err != nil {
			bad(o.CodeField, "%v", err)
			continue
		}
		code = strings.TrimSpace(code)
		if code == "" {
			bad(o.CodeField, "no code")
			continue
		}
		if msg := checkText(code, 100); msg != "" {
			bad(o.CodeField, "%s", msg)
			continue
		}
		if prev, dup := seen[code]; dup {
			bad(o.CodeField, "code %s appears again (first on line %d)", code, prev)
			continue
		}
		name := code
		if o.NameField != "" {
			n, _ := jsonText(f.Properties[o.NameField])
			if n = strings.TrimSpace(n); n != "" {
				name = n
			}
		}
		if msg := checkText(name, 200); msg != "" {
			bad(o.NameField, "%s", msg)
			continue
		}
		mp, err := parsePolygons(f.Geometry, gr.bng)
		if err != nil {
			bad("geometry", "%v", err)
			continue
		}
		seen[code] = line
		out.Areas = append(out.Areas, Area{Level: level, Code: code, Name: name, Geometry: mp})
	}
	if len(out.Areas) == 0 && len(out.Rejected) == 0 {
		return nil, Errorf(EINVALID, "the file holds no features")
	}
	return out, nil
}

// nextFeature returns the next raw feature of the collection with its line and index.
func (gr *geojsonReader) nextFeature() (json.RawMessage, int, int, error) {
	for {
		if gr.done {
			return nil, 0, 0, io.EOF
		}
		if !gr.inFeat {
			if err := gr.advance(); err != nil {
				gr.done = true
				return nil, 0, 0, err
			}
			continue
		}
		if !gr.sd.dec.More() {
			if err := gr.sd.delim(']', "the end of the features array"); err != nil {
				gr.done = true
				return nil, 0, 0, err
			}
			gr.inFeat = false
			continue
		}
		data, line, err := gr.sd.value()
		if err != nil {
			gr.done = true
			return nil, 0, 0, err
		}
		index := gr.index
		gr.index++
		return data, line, index, nil
	}
}

// parsePolygons reads a Polygon or MultiPolygon geometry into a MultiPolygon in WGS84.
func parsePolygons(raw json.RawMessage, bng bool) (orb.MultiPolygon, error) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("no geometry")
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, jsonReason(err)
	}
	var mp [][][][]float64
	switch g.Type {
	case "Polygon":
		var p [][][]float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			return nil, errors.New("polygon coordinates are not rings of [x, y] positions")
		}
		mp = [][][][]float64{p}
	case "MultiPolygon":
		if err := json.Unmarshal(g.Coordinates, &mp); err != nil {
			return nil, errors.New("multipolygon coordinates are not polygons of rings of [x, y] positions")
		}
	default:
		return nil, fmt.Errorf("is a %s; an area is a Polygon or MultiPolygon", g.Type)
	}
	if len(mp) == 0 {
		return nil, errors.New("multipolygon has no polygons")
	}
	out := make(orb.MultiPolygon, 0, len(mp))
	for pi, p := range mp {
		if len(p) == 0 {
			return nil, fmt.Errorf("polygon %d has no rings", pi+1)
		}
		poly := make(orb.Polygon, 0, len(p))
		for ri, ring := range p {
			if len(ring) < 3 {
				return nil, fmt.Errorf("polygon %d ring %d has %d positions; a ring needs at least 3 corners", pi+1, ri+1, len(ring))
			}
			rg := make(orb.Ring, len(ring))
			for i, pos := range ring {
				if len(pos) < 2 {
					return nil, fmt.Errorf("polygon %d ring %d position %d has fewer than 2 numbers", pi+1, ri+1, i+1)
				}
				x, y := pos[0], pos[1]
				if bng {
					// Far off the grid the conversion returns nonsense or NaN.
					if !(x >= 0 && x <= 700000 && y >= 0 && y <= 1300000) {
						return nil, fmt.Errorf("position %v is outside the British National Grid (eastings 0 to 700000, northings 0 to 1300000)", pos[:2])
					}
					y, x = BNGToWGS84(x, y)
				}
				if !(y >= -90 && y <= 90 && x >= -180 && x <= 180) {
					return nil, fmt.Errorf("position %v is outside WGS84 longitude and latitude (is the file in another projection? British National Grid files must say so in their crs)", pos[:2])
				}
				rg[i] = orb.Point{x, y}
			}
			if rg[0] != rg[len(rg)-1] {
				rg = append(rg, rg[0])
			}
			if len(rg) < 4 {
				return nil, fmt.Errorf("polygon %d ring %d has %d positions; a closed ring needs at least 4", pi+1, ri+1, len(ring))
			}
			poly = append(poly, rg)
		}
		out = append(out, poly)
	}
	return out, nil
}

// PopulationOptions names the columns of a population file.
type PopulationOptions struct {
	CodeField       string // e.g. "LSOA code (2011)"
	PopulationField string // e.g. "Total population: mid 2015 (excluding prisoners)"
}

// PopulationFile is what ReadPopulation found.
type PopulationFile struct {
	Population map[string]int
	Rejected   []*RowError
}

// ReadPopulation reads area populations from a CSV file (gzip and a byte order mark
// handled), accepting numbers written with thousands separators such as "1,296".
func ReadPopulation(r io.Reader, o PopulationOptions) (*PopulationFile, error) {
	br, err := decompress(r, DefaultMaxDecompressed)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, Errorf(EINVALID, "line 1: reading the header: %v", csvErrReason(err))
	}
	codeCol, popCol := -1, -1
	for i, h := range header {
		h = strings.TrimSpace(h)
		if strings.EqualFold(h, strings.TrimSpace(o.CodeField)) {
			codeCol = i
		}
		if strings.EqualFold(h, strings.TrimSpace(o.PopulationField)) {
			popCol = i
		}
	}
	if codeCol < 0 {
		return nil, Errorf(EINVALID, "line 1: no column %q (columns are: %s)", o.CodeField, strings.Join(header, ", "))
	}
	if popCol < 0 {
		return nil, Errorf(EINVALID, "line 1: no column %q (columns are: %s)", o.PopulationField, strings.Join(header, ", "))
	}
	out := &PopulationFile{Population: map[string]int{}}
	index := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		index++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				out.Rejected = append(out.Rejected, &RowError{Line: pe.StartLine, Index: index, Reason: csvErrReason(err)})
				continue
			}
			return nil, fmt.Errorf("geo: reading population: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) <= max(codeCol, popCol) {
			out.Rejected = append(out.Rejected, &RowError{Line: line, Index: index, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		code := strings.TrimSpace(rec[codeCol])
		if code == "" {
			out.Rejected = append(out.Rejected, &RowError{Line: line, Index: index, Field: o.CodeField, Reason: "no code"})
			continue
		}
		n, err := ParseCount(rec[popCol])
		if err != nil {
			out.Rejected = append(out.Rejected, &RowError{Line: line, Index: index, Field: o.PopulationField, Reason: err.Error()})
			continue
		}
		out.Population[code] = n
	}
	return out, nil
}

// ParseCount parses a non-negative whole number, allowing thousands separators
// ("1,296", "1 296") as official statistics write them.
func ParseCount(s string) (int, error) {
	t := strings.TrimSpace(s)
	clean := strings.NewReplacer(",", "", " ", "", "\u00a0", "", "_", "").Replace(t)
	if clean == "" {
		return 0, errors.New("no number")
	}
	n, err := strconv.Atoi(clean)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", t)
	}
	if n < 0 {
		return 0, fmt.Errorf("%q is negative", t)
	}
	return n, nil
}
