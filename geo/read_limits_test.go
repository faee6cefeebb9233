package geo

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime"
	"strings"
	"testing"
)

// repeatReader gives n copies of b without holding them.
type repeatReader struct {
	b []byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.b[:min(int64(len(r.b)), r.n)])
		k += c
		r.n -= int64(c)
		if c < len(r.b) {
			// a copy cut short by p: keep the rest for the next Read, whole copies only
			r.b = append(r.b[c:], r.b[:c]...)
		}
	}
	return k, nil
}

// repeated returns n bytes of the pattern s.
func repeated(s string, n int64) io.Reader { return &repeatReader{b: []byte(s), n: n} }

// gzipStream gzips r through a pipe: the compressed stream is never held whole.
// The returned function stops the writer.
func gzipStream(r io.Reader) (io.Reader, func()) {
	pr, pw := io.Pipe()
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		_, err := io.Copy(zw, r)
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, func() { pr.Close() }
}

// TestReaderCapsBoundMemory feeds each reader a hostile stream (a 10 MB line, a
// 10 MB JSON string, a record that never ends, a gzip bomb) and checks that the
// reader names the cap hit with its line, reads on where it can, and allocates a
// bounded amount whatever the input's size.
func TestReaderCapsBoundMemory(t *testing.T) {
	const good = "police,G,crime,race,2025-05-01,52.03,-0.78\n"
	const tenMB = 10 << 20
	tests := []struct {
		name      string
		input     func() io.Reader
		limits    Limits
		format    string
		errLine   int
		errField  string
		reason    string // of the first row error, or of the fatal error when fatal
		fatal     bool
		wantGoods int // records read after the bad one
	}{
		{
			name: "csv 10 MB line",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader(csvHeader+"\n"+good), repeated("x", tenMB), strings.NewReader("\n"+good))
			},
			errLine: 3, reason: "a line longer than 1 MiB (the line cap)", wantGoods: 2,
		},
		{
			name: "police.uk 10 MB line",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader("Crime ID,Month,Longitude,Latitude,Crime type\nc1,2024-01,-0.78,52.03,Robbery\n"),
					repeated("y", tenMB), strings.NewReader("\nc2,2024-01,-0.78,52.03,Robbery\n"))
			},
			errLine: 3, reason: "a line longer than 1 MiB (the line cap)", wantGoods: 2,
		},
		{
			name: "csv quoted record that never closes",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader(csvHeader+"\n"+good+`police,"`), repeated(strings.Repeat("q", 1023)+"\n", 2<<20))
			},
			errLine: 3, reason: "a record longer than 1 MiB (the record cap)", wantGoods: 1,
		},
		{
			name: "csv 200 KiB field",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader(csvHeader+"\n"+"police,"), repeated("r", 200<<10), strings.NewReader(",crime,race,2025-05-01,,\n"+good))
			},
			errLine: 2, errField: "source_ref", reason: "longer than 64 KiB (the field cap)", wantGoods: 1,
		},
		{
			name: "ndjson 10 MB line",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader(`{"source_ref":"A"}`+"\n"+`{"source_ref":"`), repeated("z", tenMB), strings.NewReader(`"}`+"\n"+`{"source_ref":"B"}`+"\n"))
			},
			errLine: 2, reason: "a line longer than 1 MiB (the line cap)", wantGoods: 2,
		},
		{
			name: "json array 10 MB string",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader("[\n"+`{"source_ref":"A"},`+"\n"+`{"source_ref":"`), repeated("z", tenMB), strings.NewReader(`"}]`))
			},
			fatal: true, reason: "line 3: a record longer than 1 MiB (the record cap)", wantGoods: 1,
		},
		{
			name: "geojson 10 MB member before the features",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader(`{"type":"FeatureCollection","name":"`), repeated("w", tenMB), strings.NewReader(`","features":[]}`))
			},
			fatal: true, reason: "line 1: a record longer than 1 MiB (the record cap)",
		},
		{
			name: "gzip bomb of zeros",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader(csvHeader+"\n"+good), repeated("\x00", 1<<30))
			},
			limits: Limits{Decompressed: 64 << 20}, format: "gzip",
			fatal: true, reason: "the input decompresses to more than 64 MiB (the decompressed cap)", wantGoods: 1,
		},
		{
			name: "gzip bomb of blank lines",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader(csvHeader+"\n"+good), repeated("\n", 1<<30))
			},
			limits: Limits{Decompressed: 16 << 20}, format: "gzip",
			fatal: true, reason: "the input decompresses to more than 16 MiB (the decompressed cap)", wantGoods: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.input()
			if tt.format == "gzip" {
				zr, stop := gzipStream(in)
				defer stop()
				in = zr
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := NewReader(in, ReaderOptions{Limits: tt.limits})
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			res := drain(t, r)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %.1f MiB in all", float64(alloc)/(1<<20))
			// The input is at least 10 MB (1 GiB for the bombs): a reader that held it
			// would allocate more than this bound.
			if alloc > 32<<20 {
				t.Errorf("allocated %d bytes reading it; want at most 32 MiB", alloc)
			}
			if tt.fatal {
				if res.fatal == nil || !strings.Contains(res.fatal.Error(), tt.reason) {
					t.Errorf("fatal error %v; want one saying %q", res.fatal, tt.reason)
				}
			} else {
				if res.fatal != nil {
					t.Fatalf("fatal error %v; want none", res.fatal)
				}
				if len(res.rowErrs) == 0 {
					t.Fatalf("no row error; want one saying %q", tt.reason)
				}
				wantRowError(t, res.rowErrs[0], tt.errLine, tt.errField, tt.reason)
			}
			if len(res.records) < tt.wantGoods {
				t.Errorf("read %d good records; want %d", len(res.records), tt.wantGoods)
			}
		})
	}
}

// TestCSVUnterminatedQuote checks that a quote left open is reported on its line
// with its field and raw text, and reading resumes at the next line that is a record
// of its own; a field that rightly runs over lines is still read whole.
func TestCSVUnterminatedQuote(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		wantRefs  []string
		errLine   int
		errField  string
		reason    string
		errText   string
		wantLines []int
	}{
		{
			name:     "open quote mid-file",
			content:  lf(csvHeader, "police,R1,crime,race,2024-01-02,,", `police,"R2,crime,race,2024-01-02,,`, "police,R3,crime,race,2024-01-02,,", "police,R4,crime,race,2024-01-02,,"),
			wantRefs: []string{"R1", "R3", "R4"}, wantLines: []int{2, 4, 5},
			errLine: 3, errField: "source_ref", reason: "unterminated quote", errText: `police,"R2,crime,race,2024-01-02,,`,
		},
		{
			name:     "open quote over two lines",
			content:  lf(csvHeader, `police,R1,crime,"race`, `and more`, "police,R3,crime,race,2024-01-02,,"),
			wantRefs: []string{"R3"}, wantLines: []int{4},
			errLine: 2, errField: "strands", reason: "unterminated quote", errText: "police,R1,crime,\"race\nand more",
		},
		{
			name:     "a field over lines is read whole",
			content:  lf("source,source_ref,offence,occurred", `police,R1,"a line, and another`, `one, two, three",2024-01-02`, "police,R2,x,2024-01-02"),
			wantRefs: []string{"R1", "R2"}, wantLines: []int{2, 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readInput(t, tt.content, ReaderOptions{Format: FormatCSV})
			var refs []string
			var lines []int
			for _, r := range res.records {
				refs = append(refs, r.SourceRef)
				lines = append(lines, r.Line)
			}
			if strings.Join(refs, ",") != strings.Join(tt.wantRefs, ",") || len(lines) != len(tt.wantLines) {
				t.Errorf("read %v on lines %v; want %v on %v", refs, lines, tt.wantRefs, tt.wantLines)
			}
			for i := range min(len(lines), len(tt.wantLines)) {
				if lines[i] != tt.wantLines[i] {
					t.Errorf("record %d on line %d; want %d", i, lines[i], tt.wantLines[i])
				}
			}
			if tt.reason == "" {
				if len(res.rowErrs) != 0 {
					t.Errorf("row errors %v; want none", res.rowErrs)
				}
				return
			}
			if len(res.rowErrs) != 1 {
				t.Fatalf("row errors %v; want one", res.rowErrs)
			}
			e := wantRowError(t, res.rowErrs[0], tt.errLine, tt.errField, tt.reason)
			if e.Text != tt.errText {
				t.Errorf("raw text %q; want %q", e.Text, tt.errText)
			}
		})
	}
}

// TestJSONInvalidUTF8 checks that invalid UTF-8 in a JSON record is rejected with
// the field it is in (a mapped key under its project column), before the decoder
// could turn it into U+FFFD.
func TestJSONInvalidUTF8(t *testing.T) {
	tests := []struct {
		name    string
		content string
		opts    ReaderOptions
		line    int
		field   string
	}{
		{"ndjson value", `{"source_ref":"A` + "\xff" + `"}` + "\n", ReaderOptions{}, 1, "source_ref"},
		{"ndjson mapped key", `{"Ref":"A` + "\xe9" + `"}` + "\n", ReaderOptions{Mapping: map[string]string{"source_ref": "Ref"}}, 1, "source_ref"},
		{"ndjson unknown key", `{"note":"A` + "\xe9" + `","source_ref":"B"}` + "\n", ReaderOptions{}, 1, "note"},
		{"ndjson key", `{"a` + "\xff" + `":"A","source_ref":"B"}` + "\n", ReaderOptions{}, 1, "a?"},
		{"json array in a list", "[\n{\"strands\":[\"race\",\"x\xc0\xaf\"]}\n]", ReaderOptions{}, 2, "strands"},
		{"geojson property", `{"type":"FeatureCollection","features":[` + "\n" + `{"type":"Feature","properties":{"source_ref":"` + "\xed\xa0\x80" + `"},"geometry":null}]}`, ReaderOptions{}, 2, "source_ref"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := drain(t, openInput(t, tt.content, tt.opts))
			if res.fatal != nil || len(res.rowErrs) != 1 || len(res.records) != 0 {
				t.Fatalf("records %d, row errors %v, fatal %v; want one row error", len(res.records), res.rowErrs, res.fatal)
			}
			wantRowError(t, res.rowErrs[0], tt.line, tt.field, "not valid UTF-8")
		})
	}
}

// TestReaderRejectsNUL checks that a NUL byte in a field is rejected on every path.
func TestReaderRejectsNUL(t *testing.T) {
	for _, tt := range []struct{ name, content string }{
		{"csv", csvHeader + "\npolice,A\x00B,crime,race,2025-05-01,,\n"},
		{"ndjson", `{"source_ref":"A\u0000B"}` + "\n"},
		{"json", `[{"source_ref":"A\u0000B"}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := drain(t, openInput(t, tt.content, ReaderOptions{}))
			if len(res.rowErrs) != 1 {
				t.Fatalf("row errors %v, fatal %v; want one", res.rowErrs, res.fatal)
			}
			wantRowError(t, res.rowErrs[0], -1, "source_ref", "NUL")
		})
	}
}

// TestDecompressedCapBoundary: an input that decompresses to exactly the cap is read
// whole, one byte more is refused with the cap named, whatever the read sizes.
func TestDecompressedCapBoundary(t *testing.T) {
	const max = 4 << 10
	content := func(n int) string {
		s := lf(csvHeader, "police,R1,crime,race,2024-01-02,,")
		return s + strings.Repeat("\n", n-len(s))
	}
	for _, tt := range []struct {
		size  int
		fatal bool
	}{{max - 1, false}, {max, false}, {max + 1, true}, {3 * max, true}} {
		r, err := NewReader(bytes.NewReader(gzipped(t, []byte(content(tt.size)))), ReaderOptions{Limits: Limits{Decompressed: max}})
		if err != nil {
			t.Fatal(err)
		}
		res := drain(t, r)
		switch {
		case tt.fatal && (res.fatal == nil || !strings.Contains(res.fatal.Error(), "decompresses to more than 4 KiB (the decompressed cap)")):
			t.Errorf("%d bytes: fatal error %v; want the cap of 4 KiB named", tt.size, res.fatal)
		case !tt.fatal && (res.fatal != nil || len(res.records) != 1):
			t.Errorf("%d bytes: %d records, fatal error %v; want the record and no error", tt.size, len(res.records), res.fatal)
		}
	}
}
