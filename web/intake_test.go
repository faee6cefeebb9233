package web_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/access"
)

// intakeAnswer is the answer of POST /api/v1/incidents.
type intakeAnswer struct {
	Read, Inserted, Duplicates, Rejected, Unlocated int
	Rejections                                      []struct {
		Index, Line   int
		Field, Reason string
	}
	Error, Message string
}

// intakeBatch is a mix of good and bad records, and what the intake makes of them.
func intakeBatch(prefix string) (records []map[string]any, rejected map[int]string) {
	records = []map[string]any{
		intakeRecord(prefix+"-1", "source", "police"),
		intakeRecord(prefix+"-2", "source", "police", "kind", "banana"),
		intakeRecord(prefix+"-3", "source", "council", "strands", "race;religion"),
		intakeRecord(prefix+"-4", "source", "police", "strands", "astrology"),
		intakeRecord(prefix+"-5", "source", "police", "occurred", "2027-01-01"),
		{"source": "police", "source_ref": prefix + "-6", "kind": "incident", "strands": "disability", "occurred": "2026-05", "precision": "online"},
		intakeRecord(prefix+"-7", "source", "police", "lat", "95"),
		intakeRecord("", "source", "police"),
	}
	rejected = map[int]string{1: "kind", 3: "strands", 4: "occurred", 6: "lat", 7: "source_ref"}
	return records, rejected
}

func checkIntake(t *testing.T, label string, got intakeAnswer, n int, rejected map[int]string, line func(i int) int) {
	t.Helper()
	if got.Read != n || got.Inserted != n-len(rejected) || got.Rejected != len(rejected) || got.Duplicates != 0 || got.Unlocated != 1 {
		t.Errorf("%s: %+v; want %d read, %d inserted, %d rejected, 1 unlocated", label, got, n, n-len(rejected), len(rejected))
	}
	if len(got.Rejections) != len(rejected) {
		t.Fatalf("%s: rejections %+v; want %d", label, got.Rejections, len(rejected))
	}
	for _, rj := range got.Rejections {
		if want, ok := rejected[rj.Index]; !ok || rj.Field != want || rj.Reason == "" || rj.Line != line(rj.Index) {
			t.Errorf("%s: rejection %+v; want record %d on line %d rejected for %q with a reason", label, rj, rj.Index, line(rj.Index), want)
		}
	}
}

// TestIntakeJSONAndNDJSON posts the same kind of batch as a JSON array and as NDJSON
// and checks the counts, each rejection, the stored rows, a rerun and the audit log.
func TestIntakeJSONAndNDJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, tok := e.token(access.Admin, "")
	base := e.count("SELECT count(*) FROM incidents")

	// A JSON array, one record a line after the opening bracket.
	records, rejected := intakeBatch("JA")
	var parts []string
	for _, r := range records {
		b, _ := json.Marshal(r)
		parts = append(parts, string(b))
	}
	arrayBody := "[\n" + strings.Join(parts, ",\n") + "\n]"
	r := e.do(admin, "POST", "/api/v1/incidents", strings.NewReader(arrayBody), "Content-Type", "application/json; charset=utf-8")
	if r.status != 200 {
		t.Fatalf("JSON array: %s", r)
	}
	var got intakeAnswer
	r.json(t, &got)
	checkIntake(t, "JSON array", got, len(records), rejected, func(i int) int { return i + 2 })
	if n := e.count("SELECT count(*) FROM incidents WHERE source_ref LIKE 'JA-%'"); n != int64(len(records)-len(rejected)) {
		t.Errorf("JSON array: %d stored; want %d", n, len(records)-len(rejected))
	}

	// NDJSON with a blank line: lines count it, indexes do not.
	records, rejected = intakeBatch("ND")
	parts = parts[:0]
	for _, r := range records {
		b, _ := json.Marshal(r)
		parts = append(parts, string(b))
	}
	ndBody := parts[0] + "\n\n" + strings.Join(parts[1:], "\n") + "\n"
	r = e.do(admin, "POST", "/api/v1/incidents", strings.NewReader(ndBody), "Content-Type", "application/x-ndjson")
	if r.status != 200 {
		t.Fatalf("NDJSON: %s", r)
	}
	got = intakeAnswer{}
	r.json(t, &got)
	checkIntake(t, "NDJSON", got, len(records), rejected, func(i int) int {
		if i == 0 {
			return 1
		}
		return i + 2
	})
	if n := e.count("SELECT count(*) FROM incidents WHERE source_ref LIKE 'ND-%'"); n != int64(len(records)-len(rejected)) {
		t.Errorf("NDJSON: %d stored; want %d", n, len(records)-len(rejected))
	}
	// What was stored: the source, the strands, the place binned, the month spanned.
	var source, precision string
	var lat, lon float64
	var cell int64
	if err := e.db.Pool.QueryRow(e.ctx, `SELECT s.name, i.precision, i.lat, i.lon, coalesce(i.cell, 0) FROM incidents i
		JOIN sources s ON s.id = i.source_id WHERE i.source_ref = 'ND-3'`).Scan(&source, &precision, &lat, &lon, &cell); err != nil {
		t.Fatal(err)
	}
	if source != "council" || precision != "street" || lat != 52.04 || lon != -0.76 || cell == 0 {
		t.Errorf("ND-3 stored as %s %s %v,%v cell %x", source, precision, lat, lon, cell)
	}
	if n := e.count("SELECT count(*) FROM incidents WHERE source_ref = 'ND-6' AND occurred_from = '2026-05-01' AND occurred_to = '2026-05-31' AND cell IS NULL"); n != 1 {
		t.Errorf("ND-6 (a month, online) was not stored as a span without a cell")
	}

	// A rerun stores nothing.
	r = e.do(admin, "POST", "/api/v1/incidents", strings.NewReader(ndBody), "Content-Type", "application/x-ndjson")
	got = intakeAnswer{}
	r.json(t, &got)
	if r.status != 200 || got.Inserted != 0 || got.Duplicates != len(records)-len(rejected) || got.Rejected != len(rejected) {
		t.Errorf("rerun: %s; want nothing inserted, %d duplicates", r, len(records)-len(rejected))
	}
	want := base + 2*int64(len(records)-len(rejected))
	if n := e.count("SELECT count(*) FROM incidents"); n != want {
		t.Errorf("%d incidents; want %d", n, want)
	}

	// Every call is audited, with the token and what it stored.
	es := e.auditEntries("incidents.ingest")
	if len(es) != 3 {
		t.Fatalf("%d incidents.ingest entries; want 3", len(es))
	}
	actor := fmt.Sprintf("token:%d:%s", tok.ID, tok.Name)
	for i, en := range es {
		wantRows := int64(len(records) - len(rejected))
		if i == 0 {
			wantRows = 0 // the rerun, newest first
		}
		if en.Actor != actor || en.Role != access.Admin || en.Rows != wantRows || en.Route != "POST /api/v1/incidents" ||
			en.Params["read"] != float64(len(records)) || en.Params["rejected"] != float64(len(rejected)) {
			t.Errorf("audit entry %d: %+v", i, en)
		}
	}
	// The ingest runs are recorded with who sent them.
	if n := e.count("SELECT count(*) FROM ingest_runs WHERE origin = 'api' AND actor = $1", actor); n != 3 {
		t.Errorf("%d ingest runs recorded for %s; want 3", n, actor)
	}
}

// TestIntakeRefusesWhatIsNotJSON: a Content-Type other than JSON or NDJSON, and a body
// that is neither, are refused; a truncated array keeps what came before the break.
func TestIntakeRefusesWhatIsNotJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, _ := e.token(access.Admin, "")
	base := e.count("SELECT count(*) FROM incidents")
	good, _ := json.Marshal([]any{intakeRecord("T-1", "source", "police")})
	for _, c := range []struct{ ctype, body string }{
		{"text/csv", "source,source_ref\npolice,T-9\n"},
		{"text/plain", string(good)},
		{"application/xml", "<incidents/>"},
		{"not a media type/;;", string(good)},
		{"", "source,source_ref,kind\npolice,T-9,crime\n"}, // sniffed as CSV: not taken here
		{"application/json", `{"source_ref": "T-9"}`},      // an object, not an array
		{"application/json", "nonsense"},
	} {
		h := []string{}
		if c.ctype != "" {
			h = []string{"Content-Type", c.ctype}
		}
		r := e.do(admin, "POST", "/api/v1/incidents", strings.NewReader(c.body), h...)
		if r.status != 400 {
			t.Errorf("Content-Type %q, body %.30q: %s; want 400", c.ctype, c.body, r)
		}
	}
	if n := e.count("SELECT count(*) FROM incidents"); n != base {
		t.Errorf("refused bodies stored %d incidents", n-base)
	}

	// Without a Content-Type, a JSON array is sniffed and taken.
	if r := e.do(admin, "POST", "/api/v1/incidents", strings.NewReader(string(good))); r.status != 200 {
		t.Errorf("a JSON array without a Content-Type: %s; want 200", r)
	}

	// A truncated array: the records before the break are stored and counted.
	var recs []string
	for i := 0; i < 3; i++ {
		b, _ := json.Marshal(intakeRecord(fmt.Sprintf("TR-%d", i), "source", "police"))
		recs = append(recs, string(b))
	}
	body := "[\n" + strings.Join(recs, ",\n") + ",\n" + `{"source": "police", "source_ref": "TR-3", "kind": "cri`
	r := e.do(admin, "POST", "/api/v1/incidents", strings.NewReader(body), "Content-Type", "application/json")
	var got intakeAnswer
	r.json(t, &got)
	if r.status != 400 || got.Read != 3 || got.Inserted != 3 || got.Error != "invalid" || !strings.Contains(got.Message, "line 5") {
		t.Errorf("a truncated array: %s; want 400 after storing 3, naming line 5", r)
	}
	if got.Rejections == nil || !strings.Contains(string(r.body), `"rejections":[]`) {
		t.Errorf("a truncated array: rejections %s; want an empty list", r)
	}
	if n := e.count("SELECT count(*) FROM incidents WHERE source_ref LIKE 'TR-%'"); n != 3 {
		t.Errorf("a truncated array stored %d; want the 3 before the break", n)
	}
	if es := e.auditEntries("incidents.ingest"); len(es) != 2 || es[0].Params["failed"] != true || es[0].Rows != 3 {
		t.Errorf("audit entries %+v; want the truncated ingest recorded as failed with 3 rows", es)
	}
}

// TestPartnerWritesItsOwnSourceOnly: a partner token's records naming another source
// are rejected on the source field; the others are stored under the token's source.
// A partner user, who has no source, may not push at all.
func TestPartnerWritesItsOwnSourceOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	partner, tok := e.token(access.Partner, "third_party")
	records := []map[string]any{
		intakeRecord("P-1"), // no source: the token's
		intakeRecord("P-2", "source", "police"),
		intakeRecord("P-3", "source", "third_party"),
		intakeRecord("P-4", "source", "Third Party"), // the same name, written otherwise
		intakeRecord("P-5", "Source", "council"),     // keys ignore case
		intakeRecord("P-6", "source", "third_party;police"),
		{"source": []string{"police"}, "source_ref": "P-7", "kind": "crime", "strands": "race", "occurred": "2026-06-01"},
		intakeRecord("P-8", "source", ""),
	}
	r := e.send(partner, "POST", "/api/v1/incidents", records)
	if r.status != 200 {
		t.Fatalf("partner intake: %s", r)
	}
	var got intakeAnswer
	r.json(t, &got)
	wantRejected := []int{1, 4, 5, 6}
	var rejected []int
	for _, rj := range got.Rejections {
		rejected = append(rejected, rj.Index)
		if rj.Field != "source" || !strings.Contains(rj.Reason, "third_party") {
			t.Errorf("rejection %+v; want field source, naming the token's source", rj)
		}
	}
	if !slices.Equal(rejected, wantRejected) || got.Inserted != 4 || got.Rejected != 4 {
		t.Errorf("partner intake: %s; want records %v rejected and 4 stored", r, wantRejected)
	}
	rows, err := e.db.Pool.Query(e.ctx, `SELECT i.source_ref, s.name FROM incidents i JOIN sources s ON s.id = i.source_id
		WHERE i.source_ref LIKE 'P-%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for rows.Next() {
		var ref, src string
		if err := rows.Scan(&ref, &src); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, ref+" "+src)
	}
	if want := []string{"P-1 third_party", "P-3 third_party", "P-4 third_party", "P-8 third_party"}; !slices.Equal(stored, want) {
		t.Errorf("stored %v; want %v", stored, want)
	}
	if es := e.auditEntries("incidents.ingest"); len(es) != 1 || es[0].Actor != fmt.Sprintf("token:%d:%s", tok.ID, tok.Name) ||
		es[0].Params["source"] != "third_party" || es[0].Rows != 4 {
		t.Errorf("audit entries %+v", es)
	}

	// A partner user has no source to write.
	before := e.count("SELECT count(*) FROM incidents")
	if r := e.send(e.as(access.Partner), "POST", "/api/v1/incidents", []any{intakeRecord("PU-1", "source", "third_party")}); r.status != 403 {
		t.Errorf("a partner user pushing: %s; want 403", r)
	}
	if n := e.count("SELECT count(*) FROM incidents"); n != before {
		t.Errorf("a partner user's push stored %d", n-before)
	}
	// And a partner token reads nothing.
	for _, path := range []string{"/api/v1/cells", "/api/v1/areas", "/api/v1/incidents", "/api/v1/areas/DEMOW01", "/api/v1/users"} {
		if r := e.get(partner, path); r.status != 403 {
			t.Errorf("GET %s with a partner token: %s; want 403", path, r)
		}
	}
}

// TestIntakeRejectsDuplicateKeys: a record that names a key twice, at its top or in
// a nested object, is rejected with its index, line, field and reason, as a JSON
// array and as NDJSON, and the rest of the batch is stored.
func TestIntakeRejectsDuplicateKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin, _ := e.token(access.Admin, "")
	good := func(ref string) string {
		b, _ := json.Marshal(intakeRecord(ref, "source", "police"))
		return string(b)
	}
	for _, tt := range []struct {
		prefix, contentType string
		body                func(records ...string) string
	}{
		{"DKA", "application/json", func(rs ...string) string { return "[\n" + strings.Join(rs, ",\n") + "\n]" }},
		{"DKN", "application/x-ndjson", func(rs ...string) string { return strings.Join(rs, "\n") + "\n" }},
	} {
		p := tt.prefix
		body := tt.body(good(p+"-1"),
			`{"source":"police","source_ref":"`+p+`-X","kind":"crime","strands":"race","occurred":"2026-06-20","lat":52.04,"lat":-0.76,"lon":-0.76}`,
			`{"source":"police","source_ref":"`+p+`-Y","source_ref":"`+p+`-Z","kind":"crime","strands":"race","occurred":"2026-06-20"}`,
			`{"source":"police","source_ref":"`+p+`-W","kind":"crime","strands":"race","occurred":"2026-06-20","extra":{"a":1,"a":2}}`,
			good(p+"-2"))
		r := e.do(admin, "POST", "/api/v1/incidents", strings.NewReader(body), "Content-Type", tt.contentType)
		if r.status != 200 {
			t.Fatalf("%s: %s", tt.contentType, r)
		}
		var got intakeAnswer
		r.json(t, &got)
		line := func(i int) int { return i + 1 }
		if tt.contentType == "application/json" {
			line = func(i int) int { return i + 2 }
		}
		type rejection struct {
			index  int
			field  string
			reason string
		}
		want := []rejection{{1, "lat", `field "lat" appears twice`}, {2, "source_ref", `field "source_ref" appears twice`},
			{3, "extra.a", `field "extra.a" appears twice`}}
		if got.Read != 5 || got.Inserted != 2 || got.Rejected != 3 || len(got.Rejections) != len(want) {
			t.Fatalf("%s: %+v; want 5 read, 2 inserted, 3 rejected", tt.contentType, got)
		}
		for i, w := range want {
			rj := got.Rejections[i]
			if rj.Index != w.index || rj.Line != line(w.index) || rj.Field != w.field || rj.Reason != w.reason {
				t.Errorf("%s: rejection %+v; want record %d on line %d, field %q, reason %q", tt.contentType, rj, w.index, line(w.index), w.field, w.reason)
			}
		}
		if n := e.count("SELECT count(*) FROM incidents WHERE source_ref LIKE $1", p+"-%"); n != 2 {
			t.Errorf("%s: %d stored; want the 2 good records", tt.contentType, n)
		}
	}
}
