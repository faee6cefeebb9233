package geo

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestNDJSONReader(t *testing.T) {
	tooLong := `{"source_ref":"` + strings.Repeat("x", DefaultMaxRecord) + `"}`
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
			name:    "blank lines skipped, lines counted",
			content: "\n" + `{"source_ref":"A"}` + "\r\n\r\n   \n" + `{"source_ref":"B"}` + "\n\t\n" + `{"source_ref":"C"}`,
			want:    []RawIncident{{Line: 2, Index: 0, SourceRef: "A"}, {Line: 5, Index: 1, SourceRef: "B"}, {Line: 7, Index: 2, SourceRef: "C"}},
		},
		{
			name:     "malformed line, next still read",
			content:  lf(`{"source_ref":"A"}`, `{"source_ref":"B"`, `{"source_ref":"C"}`),
			want:     []RawIncident{{Line: 1, Index: 0, SourceRef: "A"}, {Line: 3, Index: 2, SourceRef: "C"}},
			errLines: []int{2}, errFields: []string{""}, reasons: []string{"malformed JSON"},
		},
		{
			name:     "over-long line, next still read",
			content:  lf(`{"source_ref":"A"}`, tooLong, `{"source_ref":"C"}`),
			want:     []RawIncident{{Line: 1, Index: 0, SourceRef: "A"}, {Line: 3, Index: 2, SourceRef: "C"}},
			errLines: []int{2}, errFields: []string{""}, reasons: []string{"a line longer than 1 MiB (the line cap)"},
		},
		{
			name:     "over-long last line without newline",
			content:  `{"source_ref":"A"}` + "\n" + tooLong,
			want:     []RawIncident{{Line: 1, Index: 0, SourceRef: "A"}},
			errLines: []int{2}, errFields: []string{""}, reasons: []string{"longer than"},
		},
		{
			name:    "numbers, booleans, arrays and null",
			content: lf(`{"source_ref":12345,"lat":52.123456789012,"lon":-1e-1,"strands":["race","Religion"],"kind":true,"precision":null,"offence":[1,2.5,null]}`),
			want: []RawIncident{{Line: 1, SourceRef: "12345", Lat: "52.123456789012", Lon: "-1e-1", Strands: "race;Religion", Kind: "true",
				Offence: "1;2.5;"}},
		},
		{
			name:    "keys case-insensitive, unknown keys ignored",
			content: lf(`{" Source_Ref ":"A","SOURCE":"police","colour":"red"}`),
			want:    []RawIncident{{Line: 1, SourceRef: "A", Source: "police"}},
		},
		{
			name:     "nested object names the field",
			content:  lf(`{"source_ref":"A","strands":{"race":true}}`, `{"source_ref":"B"}`),
			want:     []RawIncident{{Line: 2, Index: 1, SourceRef: "B"}},
			errLines: []int{1}, errFields: []string{"strands"}, reasons: []string{"is an object"},
		},
		{
			name:     "nested array names the field",
			content:  lf(`{"strands":[["race"]]}`, `{"lat":[{"v":1}]}`),
			errLines: []int{1, 2}, errFields: []string{"strands", "lat"}, reasons: []string{"nested array", "array of objects"},
		},
		{
			name:     "not an object",
			content:  lf(`[1,2]`, `"text"`, `null`, `42`, `{"a":1} {"b":2}`),
			errLines: []int{1, 2, 3, 4, 5}, errFields: []string{"", "", "", "", ""},
			reasons: []string{"is a JSON array; want an object", "is a JSON string", "is null", "is a JSON number", "more than one JSON value"},
		},
		{
			name:    "mapping",
			content: lf(`{"Ref":"A","Date":"2024-01-02","source_ref":"ignored"}`),
			mapping: map[string]string{"source_ref": "ref", "occurred": "DATE"},
			want:    []RawIncident{{Line: 1, SourceRef: "A", Occurred: "2024-01-02"}},
		},
		{
			name:     "one field given twice",
			content:  lf(`{"source_ref":"A","SOURCE_REF":"B"}`, `{"date":"2024-01-02","occurred":"2024-01-03"}`),
			mapping:  map[string]string{"occurred": "date"},
			want:     []RawIncident{{Line: 2, Index: 1, Occurred: "2024-01-02"}},
			errLines: []int{1}, errFields: []string{"source_ref"}, reasons: []string{"given twice"},
		},
		{
			name: "a key given twice, at any depth, rejects its record alone",
			content: lf(`{"source_ref":"A","lat":52.1,"lat":52.2}`, `{"source_ref":"B","offence":[{"code":1,"code":2}]}`,
				`{"source_ref":"C","colour":"red","colour":"blue"}`, `{"source_ref":"D","l\u0061t":1,"lat":2}`, `{"Ref":"E","Ref":"F"}`,
				`{"source_ref":"G","lat":52.1}`),
			mapping:   map[string]string{"source_ref": "ref"},
			want:      []RawIncident{{Line: 6, Index: 5, Lat: "52.1"}},
			errLines:  []int{1, 2, 3, 4, 5},
			errFields: []string{"lat", "offence.code", "colour", "lat", "source_ref"},
			reasons: []string{`field "lat" appears twice`, `field "offence.code" appears twice`, `field "colour" appears twice`,
				`field "lat" appears twice`, `field "Ref" appears twice`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openInput(t, tt.content, ReaderOptions{Format: FormatNDJSON, Mapping: tt.mapping})
			if got := ReaderFormat(r); got != FormatNDJSON {
				t.Errorf("got format %q, want %q", got, FormatNDJSON)
			}
			res := drain(t, r)
			if res.fatal != nil {
				t.Fatalf("got fatal error %v, want none", res.fatal)
			}
			checkRecords(t, res, tt.want, tt.errLines, tt.errFields, tt.reasons)
		})
	}
}

// checkRecords compares what a reader returned with the records and row errors
// wanted, in order.
func checkRecords(tb testing.TB, res readResult, want []RawIncident, errLines []int, errFields, reasons []string) {
	tb.Helper()
	if len(res.records) != len(want) {
		tb.Errorf("got %d records, want %d", len(res.records), len(want))
	}
	for i := range min(len(res.records), len(want)) {
		if *res.records[i] != want[i] {
			tb.Errorf("record %d: got %+v, want %+v", i, *res.records[i], want[i])
		}
	}
	var lines []int
	var fields []string
	for _, e := range res.rowErrs {
		lines = append(lines, e.Line)
		fields = append(fields, e.Field)
	}
	if !slices.Equal(lines, errLines) {
		tb.Errorf("got row errors on lines %v (%v), want %v", lines, res.rowErrs, errLines)
	}
	if !slices.Equal(fields, errFields) {
		tb.Errorf("got row errors on fields %q, want %q", fields, errFields)
	}
	for i := range min(len(res.rowErrs), len(reasons)) {
		if !strings.Contains(res.rowErrs[i].Reason, reasons[i]) {
			tb.Errorf("row error %d: got reason %q, want it to mention %q", i, res.rowErrs[i].Reason, reasons[i])
		}
	}
}

func TestJSONArrayReader(t *testing.T) {
	tests := []struct {
		name       string
		content    string
		want       []RawIncident
		errLines   []int
		errIndexes []int
		errFields  []string
		reasons    []string
	}{
		{
			name: "pretty printed",
			content: "[\n  {\n    \"source_ref\": \"A\",\n    \"strands\": [\"race\", \"sex\"]\n  },\n" +
				"  {\"source_ref\": \"B\", \"lat\": 52.5, \"lon\": -1},\n\n  {\"source_ref\": \"C\"}\n]\n",
			want: []RawIncident{
				{Line: 2, Index: 0, SourceRef: "A", Strands: "race;sex"},
				{Line: 6, Index: 1, SourceRef: "B", Lat: "52.5", Lon: "-1"},
				{Line: 8, Index: 2, SourceRef: "C"},
			},
		},
		{
			name:    "one line",
			content: `[{"source_ref":"A"},{"source_ref":"B"}]`,
			want:    []RawIncident{{Line: 1, Index: 0, SourceRef: "A"}, {Line: 1, Index: 1, SourceRef: "B"}},
		},
		{
			name:       "non-object elements are row errors",
			content:    "[\n{\"source_ref\":\"A\"},\n42,\n\"x\",\n[1],\nnull,\n{\"source_ref\":\"B\"}\n]",
			want:       []RawIncident{{Line: 2, Index: 0, SourceRef: "A"}, {Line: 7, Index: 5, SourceRef: "B"}},
			errLines:   []int{3, 4, 5, 6},
			errIndexes: []int{1, 2, 3, 4},
			errFields:  []string{"", "", "", ""},
			reasons:    []string{"is a JSON number", "is a JSON string", "is a JSON array", "is null"},
		},
		{
			name:       "a field of the wrong shape",
			content:    "[\n{\"source_ref\":{\"id\":1}},\n{\"source_ref\":\"B\"}\n]",
			want:       []RawIncident{{Line: 3, Index: 1, SourceRef: "B"}},
			errLines:   []int{2},
			errIndexes: []int{0},
			errFields:  []string{"source_ref"},
			reasons:    []string{"is an object"},
		},
		{
			name:       "a key given twice",
			content:    "[\n{\"source_ref\":\"A\",\n \"occurred\":\"2024-01-02\",\n \"occurred\":\"2024-01-03\"},\n{\"source_ref\":\"B\"}\n]",
			want:       []RawIncident{{Line: 5, Index: 1, SourceRef: "B"}},
			errLines:   []int{2},
			errIndexes: []int{0},
			errFields:  []string{"occurred"},
			reasons:    []string{`field "occurred" appears twice`},
		},
		{
			name:    "empty array",
			content: " [ ] ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openInput(t, tt.content, ReaderOptions{})
			if got := ReaderFormat(r); got != FormatJSON {
				t.Errorf("got format %q, want %q", got, FormatJSON)
			}
			res := drain(t, r)
			if res.fatal != nil {
				t.Fatalf("got fatal error %v, want none", res.fatal)
			}
			checkRecords(t, res, tt.want, tt.errLines, tt.errFields, tt.reasons)
			var idx []int
			for _, e := range res.rowErrs {
				idx = append(idx, e.Index)
			}
			if !slices.Equal(idx, tt.errIndexes) {
				t.Errorf("got row errors at indexes %v, want %v", idx, tt.errIndexes)
			}
			// EOF is sticky.
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("got %v after the end, want io.EOF", err)
			}
		})
	}
}

func TestJSONArrayFatal(t *testing.T) {
	tests := []struct {
		name    string
		content string
		records int
		want    []string
	}{
		{"truncated in a record", "[\n{\"source_ref\":\"A\"},\n{\"source_ref\":\"B\"", 1, []string{"line 3", "malformed JSON"}},
		{"truncated after a comma", "[\n{\"source_ref\":\"A\"},\n", 1, []string{"line 3", "malformed JSON"}},
		{"missing comma", "[\n{\"source_ref\":\"A\"}\n{\"source_ref\":\"B\"}]", 1, []string{"line 3", "expected comma"}},
		{"syntax error in a later record", "[\n{\"source_ref\":\"A\"},\n\n{\"source_ref\": x}\n]", 1, []string{"line 4", "invalid character 'x'"}},
		{"closed with a brace", "[\n{\"source_ref\":\"A\"}\n}", 1, []string{"line 3"}},
		{"unterminated string", "[\n\n{\"source_ref\":\"A", 0, []string{"line 3", "malformed JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openInput(t, tt.content, ReaderOptions{Format: FormatJSON})
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
	t.Run("not an array", func(t *testing.T) {
		_, err := NewReader(strings.NewReader(`{"source_ref":"A"}`), ReaderOptions{Format: FormatJSON})
		wantErrCode(t, err, EINVALID, "line 1", "want a JSON array")
	})
	t.Run("empty", func(t *testing.T) {
		_, err := NewReader(strings.NewReader(""), ReaderOptions{Format: FormatJSON})
		wantErrCode(t, err, EINVALID, "line 1")
	})
}

// TestJSONArrayLongRecord checks that a record over the limit is a row error and the
// next is read.
func TestJSONArrayLongRecord(t *testing.T) {
	content := "[\n{\"source_ref\":\"" + strings.Repeat("y", DefaultMaxRecord) + "\"},\n{\"source_ref\":\"B\"}\n]"
	res := drain(t, openInput(t, content, ReaderOptions{}))
	if res.fatal != nil {
		t.Fatalf("got fatal error %v, want none", res.fatal)
	}
	checkRecords(t, res, []RawIncident{{Line: 3, Index: 1, SourceRef: "B"}}, []int{2}, []string{""}, []string{"longer than"})
}
