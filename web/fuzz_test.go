package web

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// FuzzQuery feeds the query decoders of the cells, areas and incidents routes
// fuzzed values: they never panic, and whatever they accept is within range.
func FuzzQuery(f *testing.F) {
	f.Add("8", "-0.86,51.98,-0.66,52.10", "2026-01-01", "2026-06-30", "race,religion", "crime", "police", "DEMOW01", "100", "2026-06-30.12", "lsoa")
	f.Add("", "", "", "", "", "", "", "", "", "", "")
	f.Add("15", "-180,-90,180,90", "1900-01-01", "2200-12-31", "Sexual Orientation", "INCIDENT", "third-party", ",,", "1000", "x", "ward")
	f.Add("-1", "NaN,0,1,1", "2026-02-30", "2026-01-01", "astrology", "rumour", "facebook", "a,b", "0", "2026-13-01.1", "county")
	f.Add("07", " 1 , 2 , 3 , 4 ", "2026-06-30", "2026-06-01", " race ", "crime,incident", "police,council", "'; DROP TABLE incidents; --", "1e3", ".", "")
	f.Add("8", "Inf,-Inf,0,0", "0000-01-01", "9999-12-31", strings.Repeat("race,", 70), "Crime", "Police", "x", "+5", "2026-06-30.-1", "x")
	f.Fuzz(func(t *testing.T, res, bbox, from, to, strand, kind, source, area, limit, after, level string) {
		strands, sources := geo.DefaultStrands, geo.DefaultSources
		v := url.Values{}
		for name, val := range map[string]string{"res": res, "bbox": bbox, "from": from, "to": to, "strand": strand, "kind": kind,
			"source": source, "area": area, "limit": limit, "after": after, "level": level} {
			if val != "" {
				// A comma-free value may come twice, as a repeated parameter.
				v[name] = []string{val}
				if strings.HasPrefix(val, "2") && !strings.Contains(val, ",") {
					v[name] = append(v[name], val)
				}
			}
		}
		// The cells route's parameters.
		q := newQuery(v, append([]string{"res", "bbox"}, filterParams...)...)
		r := q.intIn("res", -1, 0, 15)
		box := q.bbox("bbox")
		fl := q.filter(strands, sources)
		if q.err() == nil {
			if r != -1 && (r < 0 || r > 15) {
				t.Fatalf("res %d accepted", r)
			}
			checkBox(t, box)
			checkFilter(t, fl, strands, sources)
		}
		if q.err() != nil && q.err().Error() == "" {
			t.Fatal("an error without a message")
		}

		// The areas route's.
		q = newQuery(v, append([]string{"level"}, filterParams...)...)
		lv := q.single("level")
		fl = q.filter(strands, sources)
		if q.err() == nil {
			if len(lv) > 200 || lv != strings.TrimSpace(lv) {
				t.Fatalf("level %q accepted", lv)
			}
			checkFilter(t, fl, strands, sources)
		}

		// The incidents route's.
		q = newQuery(v, append([]string{"bbox", "area", "limit", "after"}, filterParams...)...)
		fl = q.filter(strands, sources)
		box = q.bbox("bbox")
		areas := q.list("area")
		n := q.intIn("limit", 100, 1, 1000)
		af := q.single("after")
		if q.err() == nil {
			checkFilter(t, fl, strands, sources)
			checkBox(t, box)
			if n < 1 || n > 1000 {
				t.Fatalf("limit %d accepted", n)
			}
			if len(areas) > 64 {
				t.Fatalf("%d areas accepted", len(areas))
			}
			for _, a := range areas {
				if a == "" || a != strings.TrimSpace(a) || strings.Contains(a, ",") {
					t.Fatalf("area %q accepted", a)
				}
			}
			if len(af) > 200 {
				t.Fatalf("after of %d bytes accepted", len(af))
			}
		}
		// The audit route's, the period fuzzed through from and to.
		av := url.Values{}
		for from, to := range map[string]string{"from": "since", "to": "until", "area": "actor", "level": "action", "limit": "limit"} {
			if vs, ok := v[from]; ok {
				av[to] = vs
			}
		}
		q = newQuery(av, "since", "until", "actor", "action", "limit")
		since, until := q.day("since"), q.day("until")
		actor, action := q.single("actor"), q.single("action")
		n = q.intIn("limit", 100, 1, 10000)
		if q.err() == nil {
			for _, d := range []time.Time{since, until} {
				if !d.IsZero() && (d.Year() < 1900 || d.Year() > 2200) {
					t.Fatalf("day %s accepted", d)
				}
			}
			if n < 1 || n > 10000 || len(actor) > 200 || len(action) > 200 {
				t.Fatalf("limit %d, actor of %d bytes, action of %d bytes accepted", n, len(actor), len(action))
			}
		}

		// Unknown parameters are always named.
		q = newQuery(v)
		for name := range v {
			if err := q.err(); err == nil || !strings.Contains(err.Error(), `"`+name+`"`) {
				t.Fatalf("unknown parameter %q not named: %v", name, err)
			}
		}
	})
}

func checkFilter(t *testing.T, f geo.Filter, strands, sources []string) {
	t.Helper()
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		t.Fatalf("from %s after to %s accepted", f.From, f.To)
	}
	for _, d := range []struct {
		name string
		day  time.Time
	}{{"from", f.From}, {"to", f.To}} {
		if !d.day.IsZero() && (d.day.Year() < 1900 || d.day.Year() > 2200 || !d.day.Equal(d.day.Truncate(24*time.Hour))) {
			t.Fatalf("%s %s accepted", d.name, d.day)
		}
	}
	for _, s := range f.Strands {
		if !slices.Contains(strands, s) {
			t.Fatalf("strand %q accepted", s)
		}
	}
	for _, s := range f.Sources {
		if !slices.Contains(sources, s) {
			t.Fatalf("source %q accepted", s)
		}
	}
	for _, k := range f.Kinds {
		if k != geo.KindCrime && k != geo.KindIncident {
			t.Fatalf("kind %q accepted", k)
		}
	}
	if err := f.Check(strands, sources); err != nil {
		t.Fatalf("an accepted filter fails its own check: %v", err)
	}
}

func checkBox(t *testing.T, b *geo.Bound) {
	t.Helper()
	if b == nil {
		return
	}
	for _, v := range []float64{b.West, b.South, b.East, b.North} {
		if v != v {
			t.Fatalf("NaN in an accepted bbox %+v", *b)
		}
	}
	if b.West < -180 || b.East > 180 || b.South < -90 || b.North > 90 || b.West > b.East || b.South > b.North {
		t.Fatalf("bbox %+v accepted", *b)
	}
}

// FuzzIntakeReader reads fuzzed intake bodies as the intake does, a partner token's
// source guard included, without a database: no panic, the reader always ends, and
// no record naming another source gets past the guard.
func FuzzIntakeReader(f *testing.F) {
	f.Add([]byte(`[{"source_ref":"A","kind":"crime","strands":"race","occurred":"2026-06-01","source":"police"}]`), false)
	f.Add([]byte("{\"source_ref\":\"A\",\"source\":\"Third Party\"}\n\n{\"source_ref\":\"B\",\"source\":\"police\"}\n"), true)
	f.Add([]byte(`[{"source":["third_party","police"]},{"SOURCE":"police","source":"third_party"},{"source":null},{"source":1}]`), false)
	f.Add([]byte("[\n{\"source_ref\": \"A\"},\n{\"source_ref\": "), false)
	f.Add([]byte(`{"source":"third_party"}`+"\n"+`[1,2]`+"\n"+`"x"`+"\n"+`null`+"\n"), true)
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), false)
	f.Add([]byte("\xef\xbb\xbf[]"), false)
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		format := geo.FormatJSON
		if ndjson {
			format = geo.FormatNDJSON
		}
		rd, err := geo.NewReader(bytes.NewReader(body), geo.ReaderOptions{Format: format})
		if err != nil {
			if rd != nil {
				t.Fatal("a reader and an error")
			}
			return
		}
		g := &sourceGuard{Reader: rd, source: "third_party"}
		// Each record read, good or bad, takes at least a byte of the (decompressed)
		// input; a gzip body can expand, so the bound is generous.
		limit := 64*len(body) + 16
		for i := 0; ; i++ {
			if i > limit {
				t.Fatalf("more than %d records from %d bytes: the reader does not end", limit, len(body))
			}
			raw, err := g.Next()
			if err == io.EOF {
				if raw != nil {
					t.Fatal("a record with io.EOF")
				}
				return
			}
			var rowErr *geo.RowError
			if errors.As(err, &rowErr) {
				if raw != nil {
					t.Fatal("a record with a row error")
				}
				if rowErr.Reason == "" {
					t.Fatalf("a row error without a reason: %+v", rowErr)
				}
				continue
			}
			if err != nil {
				return // fatal: the input ends here
			}
			if raw == nil {
				t.Fatal("no record and no error")
			}
			if raw.Source != "" && geo.NormaliseName(raw.Source) != "third_party" {
				t.Fatalf("record %d of source %q passed the guard for third_party", raw.Index, raw.Source)
			}
		}
	})
}
