package geo

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

const policeUKHeader = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"

const (
	crimeA = "8a7c0e4fb1d4e2c3a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6"
	crimeB = "1f2e3d4c5b6a79880a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f"
)

// policeUKFixture is a small street-level file as police.uk publishes it: CRLF line
// endings, anti-social behaviour rows without a Crime ID (two of them identical), a
// crime without a location, and the same Crime ID twice.
var policeUKFixture = crlf(
	policeUKHeader,
	",2024-01,Thames Valley Police,Thames Valley Police,-0.762331,52.033900,On or near Midsummer Boulevard,E01016700,Milton Keynes 012A,Anti-social behaviour,,",
	",2024-01,Thames Valley Police,Thames Valley Police,-0.762331,52.033900,On or near Midsummer Boulevard,E01016700,Milton Keynes 012A,Anti-social behaviour,,",
	crimeA+",2024-01,Thames Valley Police,Thames Valley Police,-0.759880,52.040123,On or near Silbury Boulevard,E01016701,Milton Keynes 012B,Public order,Under investigation,",
	crimeB+",2024-01,Thames Valley Police,Thames Valley Police,,,No Location,,,Violence and sexual offences,Status update unavailable,",
	",2024-01,Thames Valley Police,Thames Valley Police,-0.770001,52.030002,On or near Parking Area,E01016702,Milton Keynes 013A,Anti-social behaviour,,",
	crimeA+",2024-01,Thames Valley Police,Thames Valley Police,-0.759880,52.040123,On or near Silbury Boulevard,E01016701,Milton Keynes 012B,Public order,Under investigation,",
)

func readPoliceUK(tb testing.TB, content []byte, o ReaderOptions) (readResult, Reader) {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(content), o)
	if err != nil {
		tb.Fatalf("NewReader: got error %v, want none", err)
	}
	if got := ReaderFormat(r); got != FormatPoliceUK {
		tb.Fatalf("got format %q, want %q", got, FormatPoliceUK)
	}
	res := drain(tb, r)
	if res.fatal != nil || len(res.rowErrs) != 0 {
		tb.Fatalf("got errors %v %v, want none", res.fatal, res.rowErrs)
	}
	return res, r
}

func TestPoliceUKReader(t *testing.T) {
	res, r := readPoliceUK(t, []byte(policeUKFixture), ReaderOptions{})
	recs := res.records
	if len(recs) != 6 {
		t.Fatalf("got %d records, want 6", len(recs))
	}
	tests := []struct {
		name               string
		i                  int
		line               int
		ref                string // "" for a derived one
		lat, lon, offence  string
		occurred           string
		wantDerivedRefLike bool
	}{
		{"ASB", 0, 2, "", "52.033900", "-0.762331", "Anti-social behaviour", "2024-01", true},
		{"identical ASB", 1, 3, "", "52.033900", "-0.762331", "Anti-social behaviour", "2024-01", true},
		{"crime", 2, 4, crimeA, "52.040123", "-0.759880", "Public order", "2024-01", false},
		{"no location", 3, 5, crimeB, "", "", "Violence and sexual offences", "2024-01", false},
		{"other ASB", 4, 6, "", "52.030002", "-0.770001", "Anti-social behaviour", "2024-01", true},
		{"same Crime ID again", 5, 7, crimeA, "52.040123", "-0.759880", "Public order", "2024-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := recs[tt.i]
			if got.Line != tt.line || got.Index != tt.i {
				t.Errorf("got line %d index %d, want %d and %d", got.Line, got.Index, tt.line, tt.i)
			}
			if got.Lat != tt.lat || got.Lon != tt.lon || got.Offence != tt.offence || got.Occurred != tt.occurred {
				t.Errorf("got lat %q lon %q offence %q occurred %q, want %q %q %q %q", got.Lat, got.Lon, got.Offence, got.Occurred, tt.lat, tt.lon, tt.offence, tt.occurred)
			}
			if tt.wantDerivedRefLike {
				hexPart, ok := strings.CutPrefix(got.SourceRef, "row-")
				if _, err := hex.DecodeString(hexPart); !ok || err != nil || len(hexPart) != 32 {
					t.Errorf("got ref %q, want row- and 32 hex digits", got.SourceRef)
				}
			} else if got.SourceRef != tt.ref {
				t.Errorf("got ref %q, want %q", got.SourceRef, tt.ref)
			}
			if got.Source != "" || got.Kind != "" || got.Strands != "" || got.Precision != "" {
				t.Errorf("got source %q kind %q strands %q precision %q, want them left to the defaults", got.Source, got.Kind, got.Strands, got.Precision)
			}
		})
	}
	refs := []string{recs[0].SourceRef, recs[1].SourceRef, recs[4].SourceRef}
	if refs[0] == refs[1] || refs[0] == refs[2] || refs[1] == refs[2] {
		t.Errorf("got ASB refs %q, want three different refs (identical rows included)", refs)
	}
	if s := r.(Skipper).Skipped(); s != 0 {
		t.Errorf("got %d skipped, want 0", s)
	}

	t.Run("rerun derives the same refs", func(t *testing.T) {
		again, _ := readPoliceUK(t, gzipped(t, append(slices.Clone(bom), policeUKFixture...)), ReaderOptions{})
		for i := range recs {
			if again.records[i].SourceRef != recs[i].SourceRef {
				t.Errorf("record %d: got ref %q on the rerun, want %q", i, again.records[i].SourceRef, recs[i].SourceRef)
			}
		}
	})
	t.Run("refs do not depend on the line ending", func(t *testing.T) {
		again, _ := readPoliceUK(t, []byte(strings.ReplaceAll(policeUKFixture, "\r\n", "\n")), ReaderOptions{})
		for i := range recs {
			if again.records[i].SourceRef != recs[i].SourceRef {
				t.Errorf("record %d: got ref %q with LF endings, want %q", i, again.records[i].SourceRef, recs[i].SourceRef)
			}
		}
	})
}

func TestPoliceUKCrimeTypes(t *testing.T) {
	all, _ := readPoliceUK(t, []byte(policeUKFixture), ReaderOptions{})
	tests := []struct {
		name        string
		types       []string
		wantLines   []int
		wantSkipped int
	}{
		{"ASB only, any case", []string{" anti-social BEHAVIOUR "}, []int{2, 3, 6}, 3},
		{"two types", []string{"Public order", "Violence and sexual offences"}, []int{4, 5, 7}, 3},
		{"unknown type", []string{"Bicycle theft"}, nil, 6},
		{"no filter", nil, []int{2, 3, 4, 5, 6, 7}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, r := readPoliceUK(t, []byte(policeUKFixture), ReaderOptions{Format: FormatPoliceUK, CrimeTypes: tt.types})
			var lines []int
			for _, rec := range res.records {
				lines = append(lines, rec.Line)
				// A filtered read derives the same refs as a whole one.
				for _, a := range all.records {
					if a.Line == rec.Line && a.SourceRef != rec.SourceRef {
						t.Errorf("line %d: got ref %q, want %q as without the filter", rec.Line, rec.SourceRef, a.SourceRef)
					}
				}
			}
			if !slices.Equal(lines, tt.wantLines) {
				t.Errorf("got lines %v, want %v", lines, tt.wantLines)
			}
			if got := r.(Skipper).Skipped(); got != tt.wantSkipped {
				t.Errorf("got %d skipped, want %d", got, tt.wantSkipped)
			}
		})
	}
}

// TestPoliceUKValidated runs the fixture through a validator with the defaults the
// ingest command gives police.uk files.
func TestPoliceUKValidated(t *testing.T) {
	v := buildValidator(t, ValidatorOptions{Defaults: Defaults{Source: "police", Kind: KindCrime, Strands: []string{"race"}, Precision: PrecisionStreet}})
	res, _ := readPoliceUK(t, []byte(policeUKFixture), ReaderOptions{})
	for _, raw := range res.records {
		in, err := v.Validate(raw)
		if err != nil {
			t.Fatalf("line %d: got error %v, want none", raw.Line, err)
		}
		checkIncident(t, in)
		if !in.OccurredFrom.Equal(day(2024, 1, 1)) || !in.OccurredTo.Equal(day(2024, 1, 31)) {
			t.Errorf("line %d: got %v..%v, want January 2024", raw.Line, in.OccurredFrom, in.OccurredTo)
		}
		wantPrec := PrecisionStreet
		if raw.Lat == "" {
			wantPrec = PrecisionNone
		}
		if in.Precision != wantPrec {
			t.Errorf("line %d: got precision %q, want %q", raw.Line, in.Precision, wantPrec)
		}
	}
}

func TestPoliceUKRowErrors(t *testing.T) {
	content := crlf(
		policeUKHeader,
		",2024-01,A,A,-0.76,52.03,On or near X,E01,MK 012A,Anti-social behaviour", // two fields short
		`,2024-01,A,A,-0.76,52.03,"On or near`,
		`X",E01,MK 012A,Anti-social behaviour,,`, // a quoted newline: line 3
		`,2024-01,A,A,-0.76,52.03,On "or" near X,E01,MK 012A,Anti-social behaviour,,`,
		",2024-02,A,A,-0.76,52.03,On or near X,E01,MK 012A,Anti-social behaviour,,",
	)
	res := drain(t, openInput(t, content, ReaderOptions{}))
	if res.fatal != nil {
		t.Fatalf("got fatal error %v, want none", res.fatal)
	}
	var lines, errLines []int
	for _, r := range res.records {
		lines = append(lines, r.Line)
	}
	for _, e := range res.rowErrs {
		errLines = append(errLines, e.Line)
	}
	if want := []int{3, 6}; !slices.Equal(lines, want) {
		t.Errorf("got records on lines %v, want %v", lines, want)
	}
	if want := []int{2, 5}; !slices.Equal(errLines, want) {
		t.Errorf("got row errors on lines %v, want %v", errLines, want)
	}
	if len(res.rowErrs) == 2 {
		if !strings.Contains(res.rowErrs[0].Reason, "has 10 fields, the header has 12") {
			t.Errorf("got reason %q, want the field count", res.rowErrs[0].Reason)
		}
		if !strings.Contains(res.rowErrs[1].Reason, "malformed CSV") {
			t.Errorf("got reason %q, want malformed CSV", res.rowErrs[1].Reason)
		}
	}
}

func TestPoliceUKHeader(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"no Crime type", "Crime ID,Month,Longitude,Latitude\r\n", `no "Crime type" column`},
		{"no Month", "Crime ID,Longitude,Latitude,Crime type\r\n", `no "Month" column`},
		{"no Latitude", "Crime ID,Month,Longitude,Crime type\r\n", `no "Latitude" column`},
		{"empty", "", "empty"},
		{"malformed", "Crime ID,\"Month\r\n", "malformed CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.content), ReaderOptions{Format: FormatPoliceUK})
			wantErrCode(t, err, EINVALID, "line 1", tt.want)
		})
	}
	t.Run("minimal header in another order", func(t *testing.T) {
		res := readInput(t, crlf("Crime type, Latitude ,Longitude,Month,Crime ID", "Burglary,51.5,-0.1,2023-12,X1"), ReaderOptions{Format: FormatPoliceUK})
		want := RawIncident{Line: 2, SourceRef: "X1", Occurred: "2023-12", Lat: "51.5", Lon: "-0.1", Offence: "Burglary"}
		if len(res.records) != 1 || *res.records[0] != want {
			t.Errorf("got %+v, want %+v", res.records, want)
		}
	})
}
