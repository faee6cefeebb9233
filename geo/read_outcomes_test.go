package geo

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

const outcomesHeader = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type"

// outcomesFixture is a small outcomes file as police.uk publishes it: CRLF line
// endings, rows without a location, a quoted location with a comma, two outcomes of
// one crime in one month, and an outcome type police.uk never used.
var outcomesFixture = crlf(
	outcomesHeader,
	crimeA+",2024-01,Thames Valley Police,Thames Valley Police,-0.759880,52.040123,On or near Silbury Boulevard,E01016701,Milton Keynes 012B,Suspect charged",
	crimeB+",2023-11,Thames Valley Police,Thames Valley Police,,,No location,,,Unable to prosecute suspect",
	`c3,2024-02,Thames Valley Police,Thames Valley Police,-0.761,52.041,"On or near High Street, North",E01016710,Milton Keynes 030A,Local resolution`,
	"c3,2024-02,Thames Valley Police,Thames Valley Police,,,No location,,,  offender  GIVEN a caution ",
	"c4,2024-03,Thames Valley Police,Thames Valley Police,,,No location,,,Sent to the moon",
)

func drainOutcomes(tb testing.TB, r OutcomeReader) ([]*Outcome, []*RowError, error) {
	tb.Helper()
	var outs []*Outcome
	var rowErrs []*RowError
	for calls := 0; calls < maxReaderCalls; calls++ {
		o, err := r.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return outs, rowErrs, nil
		case errors.As(err, &re):
			if o != nil {
				tb.Errorf("Next returned an outcome and a row error %v; want only the error", err)
			}
			rowErrs = append(rowErrs, re)
		case err != nil:
			return outs, rowErrs, err
		default:
			outs = append(outs, o)
		}
	}
	tb.Fatalf("the reader did not end after %d calls", maxReaderCalls)
	return nil, nil, nil
}

func readOutcomes(tb testing.TB, content []byte) ([]*Outcome, []*RowError) {
	tb.Helper()
	r, err := NewOutcomeReader(bytes.NewReader(content), OutcomeReaderOptions{Now: func() time.Time { return fixedNow }})
	if err != nil {
		tb.Fatalf("NewOutcomeReader: got error %v, want none", err)
	}
	outs, rowErrs, err := drainOutcomes(tb, r)
	if err != nil {
		tb.Fatalf("reading: got fatal error %v, want none", err)
	}
	return outs, rowErrs
}

func TestOutcomeReader(t *testing.T) {
	want := []Outcome{
		{Line: 2, Index: 0, CrimeRef: crimeA, Month: day(2024, 1, 1), Type: "Suspect charged", Positive: true, Known: true},
		{Line: 3, Index: 1, CrimeRef: crimeB, Month: day(2023, 11, 1), Type: "Unable to prosecute suspect", Known: true},
		{Line: 4, Index: 2, CrimeRef: "c3", Month: day(2024, 2, 1), Type: "Local resolution", Known: true},
		{Line: 5, Index: 3, CrimeRef: "c3", Month: day(2024, 2, 1), Type: "offender GIVEN a caution", Positive: true, Known: true},
		{Line: 6, Index: 4, CrimeRef: "c4", Month: day(2024, 3, 1), Type: "Sent to the moon"},
	}
	inputs := map[string][]byte{
		"CRLF":             []byte(outcomesFixture),
		"LF":               []byte(strings.ReplaceAll(outcomesFixture, "\r\n", "\n")),
		"BOM":              append(slices.Clone(bom), outcomesFixture...),
		"gzip and BOM":     gzipped(t, append(slices.Clone(bom), outcomesFixture...)),
		"no final newline": []byte(strings.TrimSuffix(outcomesFixture, "\r\n")),
	}
	for name, content := range inputs {
		t.Run(name, func(t *testing.T) {
			got, rowErrs := readOutcomes(t, content)
			if len(rowErrs) != 0 {
				t.Fatalf("got row errors %v, want none", rowErrs)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d outcomes, want %d", len(got), len(want))
			}
			for i := range want {
				if *got[i] != want[i] {
					t.Errorf("outcome %d: got %+v, want %+v", i, *got[i], want[i])
				}
			}
		})
	}
	t.Run("columns in another order, minimal header", func(t *testing.T) {
		got, rowErrs := readOutcomes(t, []byte(crlf(" Outcome type ,Month,Crime ID", "Offender fined,2022-01, X1 ")))
		want := Outcome{Line: 2, CrimeRef: "X1", Month: day(2022, 1, 1), Type: "Offender fined", Positive: true, Known: true}
		if len(rowErrs) != 0 || len(got) != 1 || *got[0] != want {
			t.Errorf("got %+v %v, want %+v", got, rowErrs, want)
		}
	})
}

func TestOutcomeReaderRejects(t *testing.T) {
	row := func(id, month, typ string) string {
		return id + "," + month + ",Thames Valley Police,Thames Valley Police,,,No location,,," + typ
	}
	tests := []struct {
		name   string
		rows   []string // the rejected row's lines, then a good row
		line   int
		field  string
		reason string
	}{
		{"empty Crime ID", []string{row("", "2024-01", "Suspect charged")}, 2, "Crime ID", "required"},
		{"blank Crime ID", []string{row("   ", "2024-01", "Suspect charged")}, 2, "Crime ID", "required"},
		{"Crime ID with a control character", []string{row("a\x01b", "2024-01", "Suspect charged")}, 2, "Crime ID", "control character"},
		{"Crime ID not UTF-8", []string{row("a\xffb", "2024-01", "Suspect charged")}, 2, "Crime ID", "not valid UTF-8"},
		{"Crime ID too long", []string{row(strings.Repeat("a", 201), "2024-01", "Suspect charged")}, 2, "Crime ID", "longer than 200 characters"},
		{"empty Month", []string{row("c1", "", "Suspect charged")}, 2, "Month", "required"},
		{"month 13", []string{row("c1", "2024-13", "Suspect charged")}, 2, "Month", `"2024-13" is not a month: want YYYY-MM`},
		{"month 00", []string{row("c1", "2024-00", "Suspect charged")}, 2, "Month", `"2024-00" is not a month`},
		{"a day, not a month", []string{row("c1", "2024-01-05", "Suspect charged")}, 2, "Month", `"2024-01-05" is not a month`},
		{"words", []string{row("c1", "Jan 2024", "Suspect charged")}, 2, "Month", `"Jan 2024" is not a month`},
		{"one-digit month", []string{row("c1", "2024-1", "Suspect charged")}, 2, "Month", `"2024-1" is not a month`},
		{"signed year", []string{row("c1", "+202-01", "Suspect charged")}, 2, "Month", `"+202-01" is not a month`},
		{"month not UTF-8", []string{row("c1", "2024-\xff1", "Suspect charged")}, 2, "Month", "not valid UTF-8"},
		{"before 1900", []string{row("c1", "1899-12", "Suspect charged")}, 2, "Month", "1899-12 is before 1900"},
		{"in the future", []string{row("c1", "2024-07", "Suspect charged")}, 2, "Month", "2024-07 is in the future"},
		{"empty Outcome type", []string{row("c1", "2024-01", " ")}, 2, "Outcome type", "required"},
		{"Outcome type with a NUL", []string{row("c1", "2024-01", "Suspect\x00charged")}, 2, "Outcome type", "NUL byte"},
		{"Outcome type too long", []string{row("c1", "2024-01", strings.Repeat("x", 201))}, 2, "Outcome type", "longer than 200 characters"},
		{"too few fields", []string{"c1,2024-01,Suspect charged"}, 2, "", "has 3 fields, the header has 10"},
		{"too many fields", []string{row("c1", "2024-01", "Suspect charged,extra")}, 2, "", "has 11 fields, the header has 10"},
		{"bare quote", []string{`c1,2024-01,Thames "Valley",A,,,No location,,,Suspect charged`}, 2, "", "malformed CSV"},
		{"quoted newline, then a bad month", []string{`"c1",2024-13,A,A,,,"No`, `location",,,Suspect charged`}, 2, "Month", "is not a month"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := append([]string{outcomesHeader}, tt.rows...)
			lines = append(lines, row("good", "2024-06", "Suspect charged"))
			got, rowErrs := readOutcomes(t, []byte(crlf(lines...)))
			if len(rowErrs) != 1 {
				t.Fatalf("got row errors %v, want one", rowErrs)
			}
			e := rowErrs[0]
			if e.Line != tt.line || e.Index != 0 || e.Field != tt.field || !strings.Contains(e.Reason, tt.reason) {
				t.Errorf("got line %d index %d field %q reason %q, want line %d index 0 field %q reason with %q",
					e.Line, e.Index, e.Field, e.Reason, tt.line, tt.field, tt.reason)
			}
			if want := len(tt.rows) + 2; len(got) != 1 || got[0].CrimeRef != "good" || got[0].Line != want || got[0].Index != 1 {
				t.Errorf("got %+v after the rejected row, want the good row on line %d", got, want)
			}
		})
	}
}

func TestOutcomeReaderHeader(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"empty", "", "the file is empty"},
		{"a street-level file", crlf(policeUKHeader), `no "Outcome type" column`},
		{"no Crime ID", crlf("Month,Outcome type"), `no "Crime ID" column`},
		{"no Month", crlf("Crime ID,Outcome type"), `no "Month" column`},
		{"malformed", "Crime ID,\"Month\r\n", "malformed CSV"},
		{"damaged gzip", string(gzipped(t, []byte(outcomesFixture))[:30]), "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewOutcomeReader(strings.NewReader(tt.content), OutcomeReaderOptions{})
			if r != nil {
				t.Errorf("got reader %T with the error, want nil", r)
			}
			wantErrCode(t, err, EINVALID, tt.want)
		})
	}
}

func TestSniffOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		want    bool
	}{
		{"outcomes", []byte(outcomesFixture), true},
		{"outcomes, gzip and BOM", gzipped(t, append(slices.Clone(bom), outcomesFixture...)), true},
		{"outcomes, quoted header", []byte(crlf(`"Crime ID","Month","Outcome type"`, "c1,2024-01,Suspect charged")), true},
		{"street-level", []byte(policeUKFixture), false},
		{"the project's layout", []byte(lf("source,source_ref,kind,strands,occurred")), false},
		{"JSON", []byte(`[{"source_ref":"x"}]`), false},
		{"empty", nil, false},
		{"malformed header", []byte("Crime ID,\"Outcome type\r\n"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, got, err := SniffOutcomes(bytes.NewReader(tt.content))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got != tt.want {
				t.Errorf("got outcomes %v, want %v", got, tt.want)
			}
			// The reader gives the whole content back, decompressed.
			rest, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want && !bytes.Equal(rest, []byte(outcomesFixture)) && !bytes.HasPrefix(rest, []byte(`"Crime ID"`)) {
				t.Errorf("got content %q, want the file without gzip or byte order mark", rest)
			}
		})
	}
	t.Run("damaged gzip", func(t *testing.T) {
		_, _, err := SniffOutcomes(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}))
		wantErrCode(t, err, EINVALID, "gzip")
	})
}

func TestOutcomesName(t *testing.T) {
	for name, want := range map[string]bool{
		"2022-01-thames-valley-outcomes.csv":    true,
		"data/2022-01/TV-OUTCOMES.csv.gz":       true,
		"2022-01-thames-valley-street.csv":      false,
		"outcomes/2022-01-thames-valley-street": false,
		"reports.csv":                           false,
	} {
		if got := OutcomesName(name); got != want {
			t.Errorf("OutcomesName(%q): got %v, want %v", name, got, want)
		}
	}
}

func TestClassifyOutcome(t *testing.T) {
	// Every outcome type police.uk publishes, and whether it is a sanction detection.
	want := map[string]bool{
		"Suspect charged":                                     true,
		"Suspect charged as part of another case":             true,
		"Offender given a caution":                            true,
		"Offender given penalty notice":                       true,
		"Offender given a drugs possession warning":           true,
		"Offender sent to prison":                             true,
		"Offender fined":                                      true,
		"Offender given community sentence":                   true,
		"Offender given suspended prison sentence":            true,
		"Offender given conditional discharge":                true,
		"Offender given absolute discharge":                   true,
		"Offender otherwise dealt with":                       true,
		"Offender ordered to pay compensation":                true,
		"Offender deprived of property":                       true,
		"Defendant found not guilty":                          true,
		"Defendant sent to Crown Court":                       true,
		"Court case unable to proceed":                        true,
		"Court result unavailable":                            true,
		"Awaiting court outcome":                              true,
		"Local resolution":                                    false,
		"Investigation complete; no suspect identified":       false,
		"Unable to prosecute suspect":                         false,
		"Formal action is not in the public interest":         false,
		"Further action is not in the public interest":        false,
		"Further investigation is not in the public interest": false,
		"Action to be taken by another organisation":          false,
		"Under investigation":                                 false,
		"Status update unavailable":                           false,
	}
	for name, positive := range want {
		if p, known := ClassifyOutcome(name); p != positive || !known {
			t.Errorf("%q: got positive %v known %v, want %v and known", name, p, known, positive)
		}
	}
	if len(OutcomeTypes) != len(want) {
		t.Errorf("OutcomeTypes has %d entries, want %d", len(OutcomeTypes), len(want))
	}
	seen := map[string]bool{}
	for _, ot := range OutcomeTypes {
		if _, ok := want[ot.Name]; !ok {
			t.Errorf("OutcomeTypes has %q, which the test does not know", ot.Name)
		}
		if seen[outcomeKey(ot.Name)] {
			t.Errorf("OutcomeTypes has %q twice", ot.Name)
		}
		seen[outcomeKey(ot.Name)] = true
		if !slices.Contains([]string{"investigation", "out of court", "charge", "court"}, ot.Stage) {
			t.Errorf("%q: stage %q", ot.Name, ot.Stage)
		}
		if ot.Stage == "court" && !ot.Positive {
			t.Errorf("%q is at the court stage, which follows a charge, but not positive", ot.Name)
		}
	}
	for _, s := range []string{" suspect  CHARGED ", "Suspect\tcharged"} {
		if p, known := ClassifyOutcome(s); !p || !known {
			t.Errorf("%q: got positive %v known %v, want a known positive", s, p, known)
		}
	}
	for _, s := range []string{"", "Suspect", "Suspect charged!", "Charged"} {
		if p, known := ClassifyOutcome(s); p || known {
			t.Errorf("%q: got positive %v known %v, want unknown and not positive", s, p, known)
		}
	}
}

func TestOutcomeCountsPositiveRate(t *testing.T) {
	if got := (OutcomeCounts{}).PositiveRate(); got != 0 {
		t.Errorf("no crimes: got %v, want 0", got)
	}
	if got := (OutcomeCounts{Crimes: 8, WithOutcome: 6, Positive: 2}).PositiveRate(); got != 0.25 {
		t.Errorf("got %v, want 0.25", got)
	}
}
