package geo

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

const csvHeader = "source,source_ref,kind,strands,occurred,lat,lon"

func TestCSVReaderRecords(t *testing.T) {
	body := crlf(
		csvHeader,
		"police,R1,crime,race,2024-01-02,52.03,-0.76",
		`council,"R,2",incident,"race;`, // a quoted field over two lines
		`religion",2024-01-03,,`,
		`third_party,"R ""3""",crime,disability,2024-01-04,,`,
	)
	tests := []struct {
		name    string
		content []byte
	}{
		{"plain", []byte(body)},
		{"LF endings", []byte(strings.ReplaceAll(body, "\r\n", "\n"))},
		{"BOM", append(slices.Clone(bom), body...)},
		{"gzip", gzipped(t, []byte(body))},
		{"gzip with BOM inside", gzipped(t, append(slices.Clone(bom), body...))},
	}
	want := []RawIncident{
		{Line: 2, Index: 0, Source: "police", SourceRef: "R1", Kind: "crime", Strands: "race", Occurred: "2024-01-02", Lat: "52.03", Lon: "-0.76"},
		{Line: 3, Index: 1, Source: "council", SourceRef: "R,2", Kind: "incident", Strands: "race;\nreligion", Occurred: "2024-01-03"},
		{Line: 5, Index: 2, Source: "third_party", SourceRef: `R "3"`, Kind: "crime", Strands: "disability", Occurred: "2024-01-04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.content), ReaderOptions{})
			if err != nil {
				t.Fatalf("NewReader: got error %v, want none", err)
			}
			if got := ReaderFormat(r); got != FormatCSV {
				t.Errorf("got format %q, want %q", got, FormatCSV)
			}
			res := drain(t, r)
			if res.fatal != nil || len(res.rowErrs) > 0 {
				t.Fatalf("got errors %v %v, want none", res.fatal, res.rowErrs)
			}
			if len(res.records) != len(want) {
				t.Fatalf("got %d records, want %d", len(res.records), len(want))
			}
			for i, got := range res.records {
				if *got != want[i] {
					t.Errorf("record %d: got %+v, want %+v", i, *got, want[i])
				}
			}
			if w := r.(Warner).Warnings(); len(w) != 0 {
				t.Errorf("got warnings %q, want none", w)
			}
		})
	}
}

func TestCSVReaderRowErrors(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		wantLines []int // lines of the records read
		errLines  []int // lines of the row errors
		reason    string
	}{
		{
			name:      "too few fields",
			content:   lf(csvHeader, "police,R1,crime,race,2024-01-02,,", "police,R2,crime", "police,R3,crime,race,2024-01-02,,"),
			wantLines: []int{2, 4}, errLines: []int{3}, reason: "has 3 fields, the header has 7",
		},
		{
			name:      "too many fields",
			content:   crlf(csvHeader, "police,R1,crime,race,2024-01-02,,,extra", "police,R2,crime,race,2024-01-02,,"),
			wantLines: []int{3}, errLines: []int{2}, reason: "has 8 fields, the header has 7",
		},
		{
			name:      "field count of a multi-line record",
			content:   lf(csvHeader, `police,"R`, `1",crime`, "police,R2,crime,race,2024-01-02,,"),
			wantLines: []int{4}, errLines: []int{2}, reason: "has 3 fields",
		},
		{
			name:      "bare quote",
			content:   lf(csvHeader, `police,R"1,crime,race,2024-01-02,,`, "police,R2,crime,race,2024-01-02,,"),
			wantLines: []int{3}, errLines: []int{2}, reason: "malformed CSV",
		},
		{
			name:      "text after closing quote",
			content:   crlf(csvHeader, `police,"R1"x,crime,race,2024-01-02,,`, "police,R2,crime,race,2024-01-02,,"),
			wantLines: []int{3}, errLines: []int{2}, reason: "malformed CSV",
		},
		{
			name:      "unterminated quote at the end",
			content:   lf(csvHeader, "police,R1,crime,race,2024-01-02,,", `police,"R2,crime,race,2024-01-02,,`),
			wantLines: []int{2}, errLines: []int{3}, reason: "malformed CSV",
		},
		{
			name:      "blank lines skipped",
			content:   lf(csvHeader, "", "police,R1,crime,race,2024-01-02,,", "", "", "police,R2,crime,race,2024-01-02,,"),
			wantLines: []int{3, 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readInput(t, tt.content, ReaderOptions{Format: FormatCSV})
			var lines, errLines []int
			for _, r := range res.records {
				lines = append(lines, r.Line)
			}
			for _, e := range res.rowErrs {
				errLines = append(errLines, e.Line)
				if !strings.Contains(e.Reason, tt.reason) {
					t.Errorf("got reason %q, want it to mention %q", e.Reason, tt.reason)
				}
				if !strings.Contains(e.Error(), "line ") {
					t.Errorf("got Error() %q, want a line number", e.Error())
				}
			}
			if !slices.Equal(lines, tt.wantLines) {
				t.Errorf("got records on lines %v, want %v", lines, tt.wantLines)
			}
			if !slices.Equal(errLines, tt.errLines) {
				t.Errorf("got row errors on lines %v, want %v", errLines, tt.errLines)
			}
			// Indexes count every record, rejected ones included.
			for i, r := range res.records {
				if i > 0 && r.Index <= res.records[i-1].Index {
					t.Errorf("got indexes %d then %d, want increasing", res.records[i-1].Index, r.Index)
				}
			}
		})
	}
}

func TestCSVReaderHeader(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		o       ReaderOptions
		want    []string // substrings of the error
	}{
		{"empty file", nil, ReaderOptions{Format: FormatCSV}, []string{"line 1", "empty"}},
		{"empty file sniffed", nil, ReaderOptions{}, []string{"empty"}},
		{"BOM only", bom, ReaderOptions{}, []string{"empty"}},
		{"gzip of nothing", gzipped(t, nil), ReaderOptions{}, []string{"empty"}},
		{"no known column", []byte("when,where,what\n1,2,3\n"), ReaderOptions{}, []string{"line 1", "no known column"}},
		{"duplicate column", []byte("source,source_ref,Source\n"), ReaderOptions{}, []string{"line 1", `column "Source" appears twice`}},
		{"two fields mapped to one column", []byte("occurred,Date\n"), ReaderOptions{Mapping: map[string]string{"occurred": "date", "reported_at": " DATE"}},
			[]string{`mapping names column " DATE" for both occurred and reported_at`}},
		{"one field mapped twice", []byte("occurred,Date\n"), ReaderOptions{Mapping: map[string]string{"occurred": "date", "Occurred": "when"}}, []string{"mapping names field occurred twice"}},
		{"malformed header", []byte("source,\"source_ref\n"), ReaderOptions{Format: FormatCSV}, []string{"line 1", "malformed CSV"}},
		{"mapping to a missing column", []byte("source,source_ref\n"), ReaderOptions{Mapping: map[string]string{"occurred": "Date of incident"}},
			[]string{`the mapping names column "date of incident" for occurred`}},
		{"mapping an unknown field", []byte("source\n"), ReaderOptions{Mapping: map[string]string{"when": "Date"}}, []string{`mapping names "when", which is not a field`}},
		{"mapping to no column", []byte("source\n"), ReaderOptions{Mapping: map[string]string{"occurred": "  "}}, []string{`mapping for "occurred" names no column`}},
		{"unknown format", []byte("source\n"), ReaderOptions{Format: "xlsx"}, []string{`unknown format "xlsx"`}},
		{"broken gzip header", []byte{0x1f, 0x8b, 0, 0}, ReaderOptions{}, []string{"gzip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.content), tt.o)
			if r != nil {
				t.Errorf("got reader %T, want nil", r)
			}
			wantErrCode(t, err, EINVALID, tt.want...)
		})
	}
}

func TestCSVReaderWarnings(t *testing.T) {
	r := openInput(t, lf("Notes,source,source_ref,Extra,occurred", "a,police,R1,b,2024-01-02"), ReaderOptions{})
	want := []string{"columns not used: Extra, Notes"}
	if got := r.(Warner).Warnings(); !slices.Equal(got, want) {
		t.Errorf("got warnings %q, want %q", got, want)
	}
	res := drain(t, r)
	if len(res.records) != 1 || res.records[0].SourceRef != "R1" || res.records[0].Occurred != "2024-01-02" {
		t.Errorf("got %+v, want one record R1 on 2024-01-02", res.records)
	}
}

func TestCSVReaderMapping(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mapping map[string]string
		want    RawIncident
		warn    []string
	}{
		{
			name:    "partner export",
			content: lf("Crime Ref, DATE OF INCIDENT ,Hate Strand,source,Notes", "CR/1,31/03/2024,Race,police,nothing"),
			mapping: map[string]string{"occurred": "Date of incident", " Source_Ref ": "crime ref", "strands": "hate strand"},
			want:    RawIncident{Line: 2, SourceRef: "CR/1", Occurred: "31/03/2024", Strands: "Race", Source: "police"},
			warn:    []string{"columns not used: Notes"},
		},
		{
			name:    "a mapped field's own column is not used",
			content: lf("occurred,Date,source_ref", "2000-01-01,2024-01-02,R1"),
			mapping: map[string]string{"occurred": "date"},
			want:    RawIncident{Line: 2, Occurred: "2024-01-02", SourceRef: "R1"},
			warn:    []string{"columns not used: occurred"},
		},
		{
			name:    "swapped columns",
			content: lf("source,source_ref", "R9,police"),
			mapping: map[string]string{"source": "source_ref", "source_ref": "source"},
			want:    RawIncident{Line: 2, Source: "police", SourceRef: "R9"},
		},
		{
			name:    "a project column's name mapped to another field",
			content: lf("source,occurred", "police,2024-01-02"),
			mapping: map[string]string{"source_ref": "source"},
			want:    RawIncident{Line: 2, SourceRef: "police", Occurred: "2024-01-02"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openInput(t, tt.content, ReaderOptions{Mapping: tt.mapping})
			if got := r.(Warner).Warnings(); !slices.Equal(got, tt.warn) {
				t.Errorf("got warnings %q, want %q", got, tt.warn)
			}
			res := drain(t, r)
			if len(res.records) != 1 {
				t.Fatalf("got %d records (%v, %v), want 1", len(res.records), res.rowErrs, res.fatal)
			}
			if *res.records[0] != tt.want {
				t.Errorf("got %+v, want %+v", *res.records[0], tt.want)
			}
		})
	}
}

// TestCSVHeaderOnly checks that a file with a header and no rows ends at once.
func TestCSVHeaderOnly(t *testing.T) {
	res := readInput(t, "source,source_ref\r\n", ReaderOptions{})
	if len(res.records)+len(res.rowErrs) != 0 {
		t.Errorf("got %d records and %d errors, want none", len(res.records), len(res.rowErrs))
	}
}

// TestCSVWriterRoundTrip writes records with CSVWriter and reads them back.
func TestCSVWriterRoundTrip(t *testing.T) {
	in := []RawIncident{
		{Source: "police", SourceRef: "R,1", Kind: "crime", Strands: "race;religion", Offence: `say "hello"`, Occurred: "2024-01-02",
			Lat: FormatCoord(52.0339), Lon: FormatCoord(-0.7623), Precision: "exact", VictimRef: "V1"},
		{Source: "council", SourceRef: "R2", Kind: "incident", Strands: "disability", Offence: "line one\nline two",
			OccurredFrom: "2024-01-01", OccurredTo: "2024-01-31", Easting: "485000", Northing: "238000"},
		{Source: "other", SourceRef: "R3", Kind: "crime", Strands: "sex", Occurred: "2024-02", ReportedAt: "2024-03-01T10:00:00Z", OffenderRef: "O1"},
	}
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if err := w.Write(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.SplitN(buf.String(), "\n", 2)[0], strings.Join(Columns, ","); got != want {
		t.Errorf("got header %q, want %q", got, want)
	}
	res := readInput(t, buf.String(), ReaderOptions{})
	if len(res.records) != len(in) {
		t.Fatalf("got %d records, want %d", len(res.records), len(in))
	}
	wantLines := []int{2, 3, 5}
	for i, got := range res.records {
		want := in[i]
		want.Line, want.Index = wantLines[i], i
		if *got != want {
			t.Errorf("record %d: got %+v, want %+v", i, *got, want)
		}
		if !slices.Equal(got.Values(), in[i].Values()) {
			t.Errorf("record %d: got values %q, want %q", i, got.Values(), in[i].Values())
		}
	}
	if got := FormatCoord(-0.76233); got != "-0.762330" {
		t.Errorf("got %q, want -0.762330", got)
	}
}

func TestSniffFormat(t *testing.T) {
	police := crlf(policeUKHeader, ",2024-01,A,A,-0.76,52.03,On or near X,E01,MK 012A,Anti-social behaviour,,")
	oneLineFC := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"source_ref":"A"},"geometry":null}]}`
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"project CSV", []byte(lf(csvHeader)), FormatCSV},
		{"police.uk", []byte(police), FormatPoliceUK},
		{"police.uk with BOM", append(slices.Clone(bom), police...), FormatPoliceUK},
		{"police.uk gzip", gzipped(t, []byte(police)), FormatPoliceUK},
		{"NDJSON", []byte(lf(`{"source_ref":"A"}`, `{"source_ref":"B"}`)), FormatNDJSON},
		{"NDJSON with leading blank lines", []byte("\r\n\n  " + lf(`{"source_ref":"A"}`)), FormatNDJSON},
		{"JSON array", []byte(" \n[{\"source_ref\":\"A\"}]"), FormatJSON},
		{"JSON array gzip", gzipped(t, []byte(`[]`)), FormatJSON},
		{"GeoJSON pretty", []byte("{\n  \"type\": \"FeatureCollection\",\n  \"features\": []\n}\n"), FormatGeoJSON},
		{"GeoJSON one line", []byte(oneLineFC), FormatGeoJSON},
		{"GeoJSON one line with newline", []byte(oneLineFC + "\n"), FormatGeoJSON},
		{"GeoJSON BOM", append(slices.Clone(bom), oneLineFC...), FormatGeoJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.content), ReaderOptions{Format: FormatAuto})
			if err != nil {
				t.Fatalf("NewReader: got error %v, want none", err)
			}
			if got := ReaderFormat(r); got != tt.want {
				t.Errorf("got format %q, want %q", got, tt.want)
			}
			res := drain(t, r)
			if res.fatal != nil || len(res.rowErrs) != 0 {
				t.Errorf("got errors %v %v, want none", res.fatal, res.rowErrs)
			}
		})
	}
	t.Run("one-line GeoJSON reads its feature", func(t *testing.T) {
		res := readInput(t, oneLineFC, ReaderOptions{})
		if len(res.records) != 1 || res.records[0].SourceRef != "A" || res.records[0].Line != 1 {
			t.Errorf("got %+v, want one record A on line 1", res.records)
		}
	})
}

type otherReader struct{}

func (otherReader) Next() (*RawIncident, error) { return nil, io.EOF }

func TestReaderFormatOther(t *testing.T) {
	if got := ReaderFormat(otherReader{}); got != "" {
		t.Errorf("got %q, want empty", got)
	}
}

func TestFormatFromName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"areas.geojson", FormatGeoJSON},
		{"AREAS.GEOJSON.GZ", FormatGeoJSON},
		{"feed.ndjson", FormatNDJSON},
		{"feed.jsonl.gz", FormatNDJSON},
		{"2024-01-thames-valley-street.csv", FormatPoliceUK},
		{"2024-01-thames-valley-street.csv.gz", FormatPoliceUK},
		{"2024-01-thames-valley-outcomes.csv", FormatAuto},
		{"incidents.csv", FormatAuto},
		{"incidents.json", FormatAuto},
		{"", FormatAuto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatFromName(tt.name); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestExplicitFormatWins checks that a format given is used without sniffing: a
// police.uk file read as the project's CSV through a mapping.
func TestExplicitFormatWins(t *testing.T) {
	content := crlf(policeUKHeader, "abc,2024-01,A,A,-0.76,52.03,On or near X,E01,MK 012A,Public order,,")
	r := openInput(t, content, ReaderOptions{Format: FormatCSV, Mapping: map[string]string{
		"source_ref": "Crime ID", "occurred": "Month", "lat": "Latitude", "lon": "Longitude", "offence": "Crime type",
	}})
	if got := ReaderFormat(r); got != FormatCSV {
		t.Errorf("got format %q, want %q", got, FormatCSV)
	}
	res := drain(t, r)
	want := RawIncident{Line: 2, SourceRef: "abc", Occurred: "2024-01", Lat: "52.03", Lon: "-0.76", Offence: "Public order"}
	if len(res.records) != 1 || *res.records[0] != want {
		t.Errorf("got %+v, want %+v", res.records, want)
	}
}

// failingReader returns its content and then an I/O error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestReaderIOError checks that an I/O error part-way is fatal and not a row error.
func TestReaderIOError(t *testing.T) {
	boom := errors.New("disk gone")
	tests := []struct {
		name, format, content string
	}{
		{"csv", FormatCSV, lf(csvHeader, "police,R1,crime,race,2024-01-02,,")},
		{"police.uk", FormatPoliceUK, lf(policeUKHeader, ",2024-01,A,A,-0.76,52.03,On or near X,E01,MK 012A,Anti-social behaviour,,")},
		{"ndjson", FormatNDJSON, lf(`{"source_ref":"A"}`)},
		{"json", FormatJSON, `[{"source_ref":"A"},`},
		{"geojson", FormatGeoJSON, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null},`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(&failingReader{data: []byte(tt.content), err: boom}, ReaderOptions{Format: tt.format})
			if err != nil {
				t.Fatalf("NewReader: got error %v, want none", err)
			}
			res := drain(t, r)
			if res.fatal == nil {
				t.Fatalf("got no fatal error, want one (records %d, row errors %v)", len(res.records), res.rowErrs)
			}
			var re *RowError
			if errors.As(res.fatal, &re) {
				t.Errorf("got row error %v, want a fatal error", res.fatal)
			}
		})
	}
}

// TestCorruptGzip checks that damaged gzip input is reported as invalid input, not
// as an internal error, whichever reader meets it.
func TestCorruptGzip(t *testing.T) {
	var rows []string
	for i := range 2000 {
		rows = append(rows, "police,R"+strings.Repeat("x", i%50)+",crime,race,2024-01-02,,")
	}
	body := lf(append([]string{csvHeader}, rows...)...)
	good := gzipped(t, []byte(body))
	truncated := good[:len(good)/2]
	flipped := slices.Clone(good)
	flipped[len(flipped)-6] ^= 0xff // the CRC-32 and length trailer
	tests := []struct {
		name    string
		content []byte
	}{
		{"truncated", truncated},
		{"bad checksum", flipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.content), ReaderOptions{})
			if err != nil {
				wantErrCode(t, err, EINVALID, "gzip")
				return
			}
			res := drain(t, r)
			wantErrCode(t, res.fatal, EINVALID, "gzip")
		})
	}
	t.Run("areas", func(t *testing.T) {
		_, err := ReadAreas(bytes.NewReader(gzipped(t, []byte(featureCollection(nil, areaFeature("E1", "", squareWithHole))))[:40]), areaOpts)
		wantErrCode(t, err, EINVALID)
	})
	t.Run("population", func(t *testing.T) {
		_, err := ReadPopulation(bytes.NewReader(truncated), PopulationOptions{CodeField: "source", PopulationField: "kind"})
		wantErrCode(t, err, EINVALID, "gzip")
	})
}
