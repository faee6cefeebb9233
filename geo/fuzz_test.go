package geo

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// Fuzz targets: every reader over arbitrary bytes, and the validator over arbitrary
// fields. Each checks that nothing panics, that reading ends, that every error is one
// the Reader contract allows, and that whatever validates satisfies the Incident
// invariants. Run one with, for example:
//
//	go test -run='^$' -fuzz=FuzzCSVReader -fuzztime=25s ./geo/

// fuzzLimits are caps small enough for fuzzed inputs to reach each of them.
var fuzzLimits = Limits{Line: 64, Field: 16, Record: 96, Decompressed: 2048}

// fuzzValidator is shared by the fuzz targets: a key, so that references validate,
// Europe/London, so that naive times are zoned, and the fixed clock.
func fuzzValidator(tb testing.TB) *Validator {
	tb.Helper()
	return buildValidator(tb, ValidatorOptions{Key: testKey, Location: london(tb), Defaults: Defaults{Kind: KindCrime}})
}

// checkFuzzFatal checks an error that ends reading: a *Error with code EINVALID.
func checkFuzzFatal(tb testing.TB, what string, err error) {
	tb.Helper()
	var re *RowError
	if errors.As(err, &re) {
		tb.Fatalf("%s: got row error %v where a fatal error was due", what, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID {
		tb.Fatalf("%s: got %T %v, want a *Error with code %s", what, err, err, EINVALID)
	}
	if e.Message == "" {
		tb.Fatalf("%s: got an empty message", what)
	}
}

// fuzzRead reads data to the end with NewReader and o, checking the Reader
// contract, and validates every record it returns.
func fuzzRead(t *testing.T, v *Validator, data []byte, o ReaderOptions) {
	r, err := NewReader(bytes.NewReader(data), o)
	if err != nil {
		checkFuzzFatal(t, "NewReader", err)
		if r != nil {
			t.Fatalf("NewReader: got reader %T with error %v, want nil", r, err)
		}
		return
	}
	// Every call but the last consumes at least two bytes of the decompressed input,
	// and deflate expands at most about 1032 times, so no honest reader needs more
	// calls than this.
	limit := 1100*len(data) + 1024
	lastIndex, lastLine := -1, 0
	for calls := 0; ; calls++ {
		if calls > limit {
			t.Fatalf("reader returned more than %d results from %d bytes: it does not end", limit, len(data))
		}
		raw, err := r.Next()
		if err == io.EOF {
			if raw != nil {
				t.Fatalf("got a record with io.EOF")
			}
			if _, again := r.Next(); again != io.EOF {
				t.Fatalf("got %v after io.EOF, want io.EOF again", again)
			}
			return
		}
		var re *RowError
		if errors.As(err, &re) {
			if raw != nil {
				t.Fatalf("got a record with row error %v", err)
			}
			if re.Line < 1 || re.Index < 0 {
				t.Fatalf("got row error %+v, want line >= 1 and index >= 0", re)
			}
			if re.Index <= lastIndex || re.Line < lastLine {
				t.Fatalf("got row error at line %d index %d after line %d index %d, want them to advance", re.Line, re.Index, lastLine, lastIndex)
			}
			if len(re.Text) > o.Limits.withDefaults().Record {
				t.Fatalf("got row error text of %d bytes, over the record cap", len(re.Text))
			}
			if !strings.HasPrefix(re.Error(), "line ") {
				t.Fatalf("got Error() %q, want it to start with the line", re.Error())
			}
			lastIndex, lastLine = re.Index, re.Line
			continue
		}
		if err != nil {
			checkFuzzFatal(t, "Next", err)
			if raw != nil {
				t.Fatalf("got a record with fatal error %v", err)
			}
			return
		}
		if raw == nil {
			t.Fatalf("got neither a record nor an error")
		}
		lim := o.Limits.withDefaults()
		for _, c := range Columns {
			if msg := checkField(*raw.field(c), lim.Field); msg != "" && !(c == "source_ref" && strings.HasPrefix(*raw.field(c), "row-")) {
				t.Fatalf("got field %s %q: %s; want the reader to reject it", c, *raw.field(c), msg)
			}
		}
		if raw.Line < 1 || raw.Index <= lastIndex || raw.Line < lastLine {
			t.Fatalf("got record at line %d index %d after line %d index %d, want line >= 1 and both advancing", raw.Line, raw.Index, lastLine, lastIndex)
		}
		lastIndex, lastLine = raw.Index, raw.Line
		fuzzValidate(t, v, raw)
	}
}

// fuzzValidate validates one record and checks the result.
func fuzzValidate(t *testing.T, v *Validator, raw *RawIncident) *Incident {
	before := *raw
	in, err := v.Validate(raw)
	if *raw != before {
		t.Fatalf("Validate changed its input from %+v to %+v", before, *raw)
	}
	if err != nil {
		if in != nil {
			t.Fatalf("got an incident with error %v", err)
		}
		var re *RowError
		if !errors.As(err, &re) {
			t.Fatalf("Validate: got %T %v, want a *RowError", err, err)
		}
		if re.Line != raw.Line || re.Index != raw.Index {
			t.Fatalf("got row error at line %d index %d, want the record's %d and %d", re.Line, re.Index, raw.Line, raw.Index)
		}
		if raw.field(re.Field) == nil {
			t.Fatalf("got row error on %q, which is not a field", re.Field)
		}
		if *raw.field(re.Field) == "" && re.Field != "source" && re.Field != "source_ref" && re.Field != "kind" &&
			re.Field != "strands" && re.Field != "occurred" && re.Field != "precision" && re.Field != "lat" && re.Field != "lon" &&
			re.Field != "easting" && re.Field != "northing" {
			t.Fatalf("got row error on field %q, which the record leaves empty: %v", re.Field, err)
		}
		return nil
	}
	checkIncident(t, in)
	for _, s := range in.Strands {
		found := false
		for _, d := range DefaultStrands {
			found = found || s == d
		}
		if !found {
			t.Fatalf("got strand %q, want one of %v", s, DefaultStrands)
		}
	}
	if in.OccurredFrom.Before(earliest) || in.OccurredFrom.After(fixedNow.AddDate(0, 0, 2)) {
		t.Fatalf("got OccurredFrom %v, want it between 1900 and tomorrow", in.OccurredFrom)
	}
	if in.OccurredTo.After(fixedNow.AddDate(0, 0, 1)) && !in.OccurredTo.Equal(in.OccurredFrom) {
		t.Fatalf("got OccurredTo %v after tomorrow", in.OccurredTo)
	}
	if !in.ReportedAt.IsZero() && in.ReportedAt.After(fixedNow.Add(24*time.Hour)) {
		t.Fatalf("got ReportedAt %v more than a day ahead", in.ReportedAt)
	}
	if raw.VictimRef != "" && strings.TrimSpace(raw.VictimRef) != "" && len(in.VictimKey) != 32 {
		t.Fatalf("got victim key %q, want 32 hex digits", in.VictimKey)
	}
	// Binning a valid incident never fails, and the cache agrees.
	b, _ := NewBinner(nil, nil)
	cell := b.Cell(in)
	if in.Precision.Located() != (cell != 0) {
		t.Fatalf("got cell %x for precision %q", cell, in.Precision)
	}
	if cell != 0 {
		if _, err := ParseCell(CellString(cell)); err != nil {
			t.Fatalf("got invalid cell %x: %v", cell, err)
		}
		if got := b.CachedCell(&CellCache{}, in); got != cell {
			t.Fatalf("got CachedCell %x, want %x", got, cell)
		}
		b.RollupCell(cell)
	}
	// The same record always validates the same way.
	again, err := v.Validate(raw)
	if err != nil || !again.OccurredFrom.Equal(in.OccurredFrom) || !again.OccurredTo.Equal(in.OccurredTo) || again.Location != in.Location || again.VictimKey != in.VictimKey {
		t.Fatalf("got %+v, %v on a second look, want %+v", again, err, in)
	}
	return in
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte(lf(csvHeader, "police,R1,crime,race,2024-01-02,52.03,-0.76")))
	f.Add([]byte(crlf("source,source_ref,kind,strands,occurred_from,occurred_to,reported_at,easting,northing,precision,victim_ref",
		`council,"R,2",incident,"race;sexual orientation",2024-01,2024-02,2024-03-01 10:00,485000,238000,street,V1`)))
	f.Add(append(append([]byte{}, bom...), crlf(csvHeader, `police,"R`, `3",crime,race,2024-01-02,,`, `bad,"row`)...))
	f.Add(gzipped(f, []byte(lf(csvHeader, "police,R1,crime,race,01/2022,0,0"))))
	f.Add([]byte("Date,Ref\n31/03/2024,R1\n"))
	f.Add([]byte(lf(csvHeader, `police,"R1,crime,race,2024-01-02,,`, "police,R2,crime,race,2024-01-02,,", "police,R\xff3,crime,race,2024-01-02,,", "police,R\x004,crime,race,2024-01-02,,")))
	f.Add([]byte(lf(csvHeader, "police,R1,crime,race,2024-01-02,52.03,-0.76,"+strings.Repeat("x", 100), "police,R2,crime,race,2024-01-02,,")))
	f.Add([]byte(""))
	v := fuzzValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, v, data, ReaderOptions{Format: FormatCSV})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatCSV, Mapping: map[string]string{"occurred": "date", "source_ref": "ref"}})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatCSV, Limits: fuzzLimits})
	})
}

func FuzzPoliceUKReader(f *testing.F) {
	f.Add([]byte(policeUKFixture))
	f.Add([]byte(strings.ReplaceAll(policeUKFixture, "\r\n", "\n")))
	f.Add(gzipped(f, []byte(policeUKFixture)))
	f.Add([]byte(crlf("Crime type,Latitude,Longitude,Month,Crime ID", "Burglary,51.5,-0.1,2023-12,X1", `,"`, "a,b")))
	v := fuzzValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, v, data, ReaderOptions{Format: FormatPoliceUK, CrimeTypes: []string{"Anti-social behaviour", "Public order"}})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatPoliceUK})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatPoliceUK, Limits: fuzzLimits})
	})
}

func FuzzNDJSONReader(f *testing.F) {
	f.Add([]byte(lf(`{"source":"police","source_ref":"A","kind":"crime","strands":["race","religion"],"occurred":"2024-01-02","lat":52.03,"lon":-0.76}`,
		``, `{"source_ref":"B"`, `{"source_ref":{"x":1}}`, `[1]`, `null`)))
	f.Add([]byte("\r\n" + `{"source":"council","source_ref":7,"strands":"race","occurred_from":"2024-01","easting":485000,"northing":238000,"victim_ref":true}` + "\r\n"))
	f.Add([]byte(`{"source":"police","source_ref":"A","SOURCE_REF":"B"}`))
	f.Add([]byte(lf(`{"source_ref":"A","lat":1,"lat":2}`, `{"source_ref":"B","x":{"y":[{"z":1,"z":2}]}}`, `{"source_ref":"C","l\u0061t":1,"lat":2}`)))
	f.Add([]byte(lf(`{"source_ref":"A`+"\xff"+`"}`, `{"source_ref":"B\u0000"}`, `{"`+"\xc0\xaf"+`":1,"source_ref":"C"}`, `{"source_ref":"`+strings.Repeat("z", 80)+`"}`)))
	f.Add(gzipped(f, []byte(lf(`{"source":"police","source_ref":"A","strands":"race","occurred":"2024-01-02"}`))))
	v := fuzzValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, v, data, ReaderOptions{Format: FormatNDJSON})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatNDJSON, Limits: fuzzLimits})
	})
}

func FuzzJSONArrayReader(f *testing.F) {
	f.Add([]byte("[\n" + `{"source":"police","source_ref":"A","strands":["race"],"occurred":"2024-01-02","lat":52.03,"lon":-0.76},` + "\n42,\n" +
		`{"source":"third party","source_ref":"B","strands":"disability","occurred":"01/2022","precision":"online"}` + "\n]"))
	f.Add([]byte(`[{"source_ref":"A"},`))
	f.Add([]byte(` [ ] `))
	f.Add([]byte("[{\"source_ref\":\"A\xff\"},{\"strands\":[\"r\u0000\"]},{\"source_ref\":\"" + strings.Repeat("y", 120) + "\"},{\"source_ref\":\"B\"}]"))
	f.Add([]byte(`[{"Date":"31/03/2024","Ref":1}]`))
	f.Add([]byte("[\n{\"Ref\":1,\n\"Ref\":2},\n{\"source_ref\":\"B\",\"o\":{\"k\":1,\"k\":1}}]"))
	v := fuzzValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, v, data, ReaderOptions{Format: FormatJSON})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatJSON, Mapping: map[string]string{"occurred": "date", "source_ref": "ref"}})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatJSON, Limits: fuzzLimits})
	})
}

func FuzzGeoJSONReader(f *testing.F) {
	f.Add([]byte(featureCollection(nil,
		`{"type":"Feature","properties":{"source":"police","source_ref":"A","strands":"race","occurred":"2024-01-02"},"geometry":{"type":"Point","coordinates":[-0.7623,52.0339]}}`,
		`{"type":"Feature","properties":{"source":"police","source_ref":"B","strands":"race","occurred":"2024-01-02"},"geometry":null}`,
		`{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[]}}`)))
	f.Add([]byte(featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}`},
		`{"type":"Feature","properties":{"source":"police","source_ref":"D","strands":"race","occurred":"2024-01-02"},"geometry":{"type":"Point","coordinates":[485000,238000]}}`)))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":null,"geometry":null}]}`))
	f.Add([]byte(`{"type":"FeatureCollection","crs":{"properties":{"name":"EPSG:3857"}},"features":[]}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1,"a":2},"geometry":{"type":"Point","type":"Point","coordinates":[1,2]}}],"features":[]}`))
	v := fuzzValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, v, data, ReaderOptions{Format: FormatGeoJSON})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatAuto})
		fuzzRead(t, v, data, ReaderOptions{Format: FormatGeoJSON, Limits: fuzzLimits})
	})
}

func FuzzReadAreas(f *testing.F) {
	f.Add([]byte(featureCollection(nil,
		areaFeature("E01000001", "With a hole", squareWithHole),
		areaFeature("E01000002", "Two squares", twoSquares),
		areaFeature("E01000001", "Again", unclosedSquare),
		areaFeature(7, "", `{"type":"Point","coordinates":[0,52]}`))))
	f.Add([]byte(featureCollection([]string{`"crs": {"type": "name", "properties": {"name": "EPSG:27700"}}`},
		areaFeature("E05000001", "Ward", `{"type":"Polygon","coordinates":[[[485000,238000],[486000,238000],[486000,239000],[485000,238000]]]}`))))
	f.Add([]byte(`{"type":"FeatureCollection","features":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		af, err := ReadAreas(bytes.NewReader(data), areaOpts)
		if err != nil {
			checkFuzzFatal(t, "ReadAreas", err)
			if af != nil {
				t.Fatalf("got areas with error %v", err)
			}
			return
		}
		if len(af.Areas) == 0 && len(af.Rejected) == 0 {
			t.Fatalf("got no areas and no rejections without an error")
		}
		codes := map[string]bool{}
		for _, a := range af.Areas {
			if a.Code == "" || a.Code != strings.TrimSpace(a.Code) || codes[a.Code] {
				t.Fatalf("got code %q (seen before: %v), want a trimmed, unique code", a.Code, codes[a.Code])
			}
			codes[a.Code] = true
			if a.Name == "" || a.Level != "lsoa" {
				t.Fatalf("got name %q level %q", a.Name, a.Level)
			}
			if len(a.Geometry) == 0 {
				t.Fatalf("area %s: got no polygons", a.Code)
			}
			for _, p := range a.Geometry {
				if len(p) == 0 {
					t.Fatalf("area %s: got a polygon without rings", a.Code)
				}
				for _, r := range p {
					if len(r) < 4 || !r.Closed() {
						t.Fatalf("area %s: got ring %v, want closed with at least 4 positions", a.Code, r)
					}
					for _, pt := range r {
						if !(pt[0] >= -180 && pt[0] <= 180 && pt[1] >= -90 && pt[1] <= 90) {
							t.Fatalf("area %s: got position %v outside WGS84", a.Code, pt)
						}
					}
				}
			}
		}
		for _, re := range af.Rejected {
			if re.Line < 1 || re.Index < 0 || re.Reason == "" {
				t.Fatalf("got rejection %+v, want a line, an index and a reason", re)
			}
		}
		// Indexing and querying what was read never fails.
		for i := range af.Areas {
			af.Areas[i].ID = int32(i + 1)
		}
		ix := NewAreaIndex(af.Areas)
		for _, a := range af.Areas {
			v := a.Geometry[0][0][0]
			got := ix.Containing(nil, LatLon{v[1], v[0]})
			found := false
			for _, id := range got {
				if id < 1 || int(id) > len(af.Areas) {
					t.Fatalf("got area id %d, want 1 to %d", id, len(af.Areas))
				}
				found = found || af.Areas[id-1].Code == a.Code
			}
			if !found {
				t.Fatalf("area %s: its own first vertex %v is not in it (got %v)", a.Code, v, got)
			}
		}
	})
}

func FuzzReadPopulation(f *testing.F) {
	f.Add([]byte(crlf(`LSOA code,"All Ages"`, `E01000001,"1,296"`, `E01000002,lots`, `,3`, `E01000003`)))
	f.Add(append(append([]byte{}, bom...), lf("lsoa code,all ages", "E1,1 296", `E2,"1`, `2"`)...))
	f.Add(gzipped(f, []byte(lf("LSOA code,All Ages", "E1,5"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := ReadPopulation(bytes.NewReader(data), PopulationOptions{CodeField: "LSOA code", PopulationField: "All Ages"})
		if err != nil {
			checkFuzzFatal(t, "ReadPopulation", err)
			return
		}
		for code, n := range pf.Population {
			if code == "" || code != strings.TrimSpace(code) || n < 0 {
				t.Fatalf("got %q: %d, want a trimmed code and a count >= 0", code, n)
			}
		}
		for _, re := range pf.Rejected {
			if re.Line < 1 || re.Reason == "" {
				t.Fatalf("got rejection %+v, want a line and a reason", re)
			}
		}
	})
}

func FuzzParseCount(f *testing.F) {
	for _, s := range []string{"1,296", " 1 296 ", "-5", "1.5", "", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCount(s)
		if err == nil && n < 0 {
			t.Fatalf("ParseCount(%q) = %d, want >= 0", s, n)
		}
	})
}

func FuzzValidate(f *testing.F) {
	f.Add("police", "R1", "crime", "race", "2024-01-02", "", "", "", "52.03", "-0.76", "", "", "", "")
	f.Add("Third Party", " R2 ", "hate incident", "Sexual orientation|race,race", "", "2024-01", "2024-02", "2024-03-01T10:00:00Z", "", "", "485000", "238000", "street", "V1")
	f.Add("council", "R3", "", "disability", "01/2022", "", "", "14/01/2022 23:45", "0", "0", "", "", "online", "")
	f.Add("anonymous", "R4", "incident", "sex", "2024-06", "", "", "", "", "", "", "", "exact", "")
	f.Add("other", "R5", "crime", "transgender", "2024-06-16", "", "", "2024-06-14T23:30:00+01:00", "NaN", "Inf", "", "", "", "")
	v := fuzzValidator(f)
	f.Fuzz(func(t *testing.T, source, ref, kind, strands, occurred, from, to, reported, lat, lon, easting, northing, precision, victim string) {
		raw := &RawIncident{
			Line: 3, Index: 2,
			Source: source, SourceRef: ref, Kind: kind, Strands: strands,
			Occurred: occurred, OccurredFrom: from, OccurredTo: to, ReportedAt: reported,
			Lat: lat, Lon: lon, Easting: easting, Northing: northing,
			Precision: precision, VictimRef: victim, OffenderRef: victim,
		}
		fuzzValidate(t, v, raw)
	})
}

func FuzzDateLayout(f *testing.F) {
	f.Add("DD/MM/YYYY HH:mm", "31/03/2024 14:05")
	f.Add("YYYY-DD-MM", "2024-05-03")
	f.Add("D MMMM YYYY hh:mm A", "5 March 2024 09:30 PM")
	f.Add("YYYY-MM-DD HH:mm:ss Z", "2024-03-31 23:30:00 -02:00")
	f.Add("MM/DD", "03/31")
	f.Fuzz(func(t *testing.T, pattern, value string) {
		layout, err := DateLayout(pattern)
		wantOK := strings.Contains(pattern, "2006") || strings.Contains(pattern, "YY")
		if (err == nil) != wantOK {
			t.Fatalf("DateLayout(%q) = %q, %v; want an error exactly when the pattern has no year", pattern, layout, err)
		}
		if err != nil {
			checkFuzzFatal(t, "DateLayout", err)
			return
		}
		v := buildValidator(t, ValidatorOptions{DateLayouts: []string{layout}, Key: testKey})
		raw := validRaw()
		raw.Occurred, raw.ReportedAt = value, value
		fuzzValidate(t, v, raw)

		// A pattern of day, month and year (and perhaps a time) written out with the
		// layout reads back as the same day.
		if !plainDatePattern(pattern) {
			return
		}
		when := time.Date(2023, 7, 8, 9, 10, 11, 0, time.UTC)
		raw = validRaw()
		raw.Occurred = when.Format(layout)
		in, err := v.Validate(raw)
		if err != nil {
			t.Fatalf("pattern %q wrote %q, which does not validate: %v", pattern, raw.Occurred, err)
		}
		if want := day(2023, 7, 8); !in.OccurredFrom.Equal(want) || !in.OccurredTo.Equal(want) {
			t.Fatalf("pattern %q wrote %q, read back as %v..%v, want %v", pattern, raw.Occurred, in.OccurredFrom, in.OccurredTo, want)
		}
	})
}

// plainDatePattern reports whether a pattern is YYYY, MM and DD once each, and
// perhaps HH, mm and ss once each, separated by characters that are never tokens.
func plainDatePattern(p string) bool {
	parts := strings.FieldsFunc(p, func(r rune) bool { return strings.ContainsRune("-/. :_,", r) })
	seen := map[string]bool{}
	for _, part := range parts {
		switch part {
		case "YYYY", "MM", "DD", "HH", "mm", "ss":
			if seen[part] {
				return false
			}
			seen[part] = true
		default:
			return false
		}
	}
	return seen["YYYY"] && seen["MM"] && seen["DD"] && len(p) > 0
}
