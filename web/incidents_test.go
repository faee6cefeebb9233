package web_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/access"
)

type incidentsAnswer struct {
	Filter    map[string]any
	Incidents []struct {
		ID           int64
		Source       string
		SourceRef    string `json:"source_ref"`
		Kind         string
		Strands      []string
		OccurredFrom string `json:"occurred_from"`
		OccurredTo   string `json:"occurred_to"`
		Precision    string
		Lat, Lon     *float64
		Cell         string
		Areas        []string
		VictimKey    string `json:"victim_key"`
	}
	Next *string
}

// listAll pages through a listing and returns the ids in order, and the pages.
func (e *env) listAll(c caller, q url.Values) ([]int64, int) {
	e.t.Helper()
	var ids []int64
	pages := 0
	for {
		var page incidentsAnswer
		e.getJSON(c, "/api/v1/incidents?"+q.Encode(), &page)
		pages++
		for _, in := range page.Incidents {
			ids = append(ids, in.ID)
		}
		if page.Next == nil {
			return ids, pages
		}
		if pages > 1000 {
			e.t.Fatal("more than 1000 pages")
		}
		q.Set("after", *page.Next)
	}
}

// idsWhere returns the ids of incidents matching a SQL condition, newest first.
func (e *env) idsWhere(cond string, args ...any) []int64 {
	e.t.Helper()
	rows, err := e.db.Pool.Query(e.ctx, "SELECT id FROM incidents i WHERE "+cond+" ORDER BY occurred_from DESC, id DESC", args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestIncidentPaging: following next through a year returns every incident of the
// period exactly once, newest first, and each page is audited with its filters and
// the rows it returned.
func TestIncidentPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.as(access.Admin)
	want := e.idsWhere("occurred_from BETWEEN '2025-07-01' AND '2026-06-30'")
	if len(want) < 1000 {
		t.Fatalf("only %d incidents in the year", len(want))
	}
	got, pages := e.listAll(admin, url.Values{"from": {"2025-07-01"}, "to": {"2026-06-30"}, "limit": {"137"}})
	if !slices.Equal(got, want) {
		t.Errorf("paging returned %d ids; want the %d of the year, in order", len(got), len(want))
		seen := map[int64]int{}
		for _, id := range got {
			seen[id]++
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("incident %d listed %d times", id, n)
			}
		}
	}
	if wantPages := (len(want) + 136) / 137; pages != wantPages && pages != wantPages+1 {
		t.Errorf("%d pages; want %d", pages, wantPages)
	}
	es := e.auditEntries("incidents.read")
	if len(es) != pages {
		t.Fatalf("%d incidents.read entries for %d pages", len(es), pages)
	}
	var rows int64
	for i, en := range es {
		rows += en.Rows
		f, _ := en.Params["filter"].(map[string]any)
		if en.Actor != "user:admin" || en.Role != access.Admin || f["from"] != "2025-07-01" || f["to"] != "2026-06-30" ||
			en.Params["limit"] != float64(137) || en.Route != "GET /api/v1/incidents" || en.IP != "127.0.0.1" {
			t.Errorf("audit entry %d: %+v", i, en)
		}
		if (i == len(es)-1) != (en.Params["after"] == nil) {
			t.Errorf("audit entry %d: after %v; only the first page has none", i, en.Params["after"])
		}
	}
	if rows != int64(len(want)) {
		t.Errorf("the audit log says %d rows were read; want %d", rows, len(want))
	}

	// Filters narrow the listing as the database does.
	for _, c := range []struct {
		q    url.Values
		cond string
	}{
		{url.Values{"from": {"2026-06-01"}, "to": {"2026-06-30"}, "strand": {"religion"}},
			"occurred_from BETWEEN '2026-06-01' AND '2026-06-30' AND strands & (SELECT 1::bigint << id FROM strands WHERE name = 'religion') <> 0"},
		{url.Values{"from": {"2026-01-01"}, "to": {"2026-06-30"}, "kind": {"incident"}, "source": {"third_party"}},
			"occurred_from BETWEEN '2026-01-01' AND '2026-06-30' AND kind = 1 AND source_id = (SELECT id FROM sources WHERE name = 'third_party')"},
		{url.Values{"from": {"2026-01-01"}, "to": {"2026-06-30"}, "area": {"DEMOW03"}},
			"occurred_from BETWEEN '2026-01-01' AND '2026-06-30' AND areas && ARRAY(SELECT id FROM areas WHERE code = 'DEMOW03')"},
		{url.Values{"from": {"2026-01-01"}, "to": {"2026-06-30"}, "bbox": {"-0.80,52.00,-0.75,52.05"}},
			"occurred_from BETWEEN '2026-01-01' AND '2026-06-30' AND lon BETWEEN -0.80 AND -0.75 AND lat BETWEEN 52.00 AND 52.05"},
		// Without dates: the 28 days to today.
		{url.Values{}, "occurred_from BETWEEN '2026-06-04' AND '2026-07-01'"},
	} {
		want := e.idsWhere(c.cond)
		q := c.q
		q.Set("limit", "1000")
		got, _ := e.listAll(admin, q)
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%v: %d incidents; want %d", c.q, len(got), len(want))
		}
	}

	// A listing covers at most 366 days; a cursor must be one.
	for _, q := range []string{"from=2024-07-01&to=2026-06-30", "after=yesterday", "after=2026-06-30", "limit=0", "limit=1001"} {
		if r := e.get(admin, "/api/v1/incidents?"+q); r.status != 400 {
			t.Errorf("%s: %s; want 400", q, r)
		}
	}
}

// TestIncidentsOfAScopedPolice: a police user scoped to two wards sees only the
// incidents in them, whatever area or box is asked for; strategic and council users
// see no incident at all.
func TestIncidentsOfAScopedPolice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wards := []string{"DEMOW02", "DEMOW05"}
	u := e.createUser("beat-team", access.Police, wards...)
	scoped := e.sessionOf(u)
	inWards := "areas && ARRAY(SELECT id FROM areas WHERE code = ANY($1))"
	period := url.Values{"from": {"2025-07-01"}, "to": {"2026-06-30"}, "limit": {"500"}}
	want := e.idsWhere("occurred_from BETWEEN '2025-07-01' AND '2026-06-30' AND "+inWards, wards)
	all := e.idsWhere("occurred_from BETWEEN '2025-07-01' AND '2026-06-30'")
	if len(want) == 0 || len(want) >= len(all) {
		t.Fatalf("%d of %d incidents in the two wards: the test needs some in and some out", len(want), len(all))
	}
	got, _ := e.listAll(scoped, period)
	if !slices.Equal(got, want) {
		t.Errorf("the scoped user listed %d incidents; want the %d in %v", len(got), len(want), wards)
	}
	var page incidentsAnswer
	e.getJSON(scoped, "/api/v1/incidents?from=2026-06-01&to=2026-06-30&limit=1000", &page)
	for _, in := range page.Incidents {
		if !slices.ContainsFunc(in.Areas, func(a string) bool { return slices.Contains(wards, a) }) {
			t.Errorf("incident %d in areas %v is outside %v", in.ID, in.Areas, wards)
		}
	}

	// Asking for another ward gives nothing; asking for one of the two gives it.
	q := url.Values{"from": {"2025-07-01"}, "to": {"2026-06-30"}, "area": {"DEMOW01"}, "limit": {"1000"}}
	if got, _ := e.listAll(scoped, q); len(got) != 0 {
		t.Errorf("the scoped user asking for DEMOW01 got %d incidents", len(got))
	}
	q.Set("area", "DEMOW05")
	if got, _ := e.listAll(scoped, q); !slices.Equal(got, e.idsWhere("occurred_from BETWEEN '2025-07-01' AND '2026-06-30' AND "+inWards, []string{"DEMOW05"})) {
		t.Errorf("the scoped user asking for DEMOW05 got %d incidents", len(got))
	}
	// A box over the whole town keeps the scope.
	q = url.Values{"from": {"2025-07-01"}, "to": {"2026-06-30"}, "bbox": {"-1,51,0,53"}, "limit": {"1000"}}
	located := e.idsWhere("occurred_from BETWEEN '2025-07-01' AND '2026-06-30' AND lat IS NOT NULL AND "+inWards, wards)
	if got, _ := e.listAll(scoped, q); !slices.Equal(got, located) {
		t.Errorf("the scoped user with a box got %d incidents; want %d", len(got), len(located))
	}
	// The scope is in the audit entry.
	es := e.auditEntries("incidents.read")
	if len(es) == 0 || fmt.Sprint(es[0].Params["scope"]) != "[DEMOW02 DEMOW05]" || es[0].Actor != "user:beat-team" {
		t.Errorf("the newest incidents.read entry %+v; want the scope recorded", es[0])
	}

	// An unscoped police user sees everything in the period.
	if got, _ := e.listAll(e.as(access.Police), period); !slices.Equal(got, all) {
		t.Errorf("unscoped police: %d incidents; want %d", len(got), len(all))
	}
	// What a listing shows of an incident: no raw reference, the place, the areas.
	var june incidentsAnswer // a fresh value: decoding into a used one keeps old fields
	e.getJSON(e.as(access.Police), "/api/v1/incidents?from=2026-06-01&to=2026-06-30&limit=1000", &june)
	for _, in := range june.Incidents {
		if strings.HasPrefix(in.VictimKey, "V-") || (in.Lat == nil) != (in.Cell == "") || in.Source == "" || in.SourceRef == "" {
			t.Errorf("incident %+v", in)
			break
		}
	}

	before := len(e.auditEntries("incidents.read"))
	for _, r := range []access.Role{access.Strategic, access.Council, access.Partner} {
		if res := e.get(e.as(r), "/api/v1/incidents"); res.status != 403 {
			t.Errorf("%s: %s; want 403", r, res)
		}
	}
	strategicToken, _ := e.token(access.Strategic, "")
	if res := e.get(strategicToken, "/api/v1/incidents"); res.status != 403 {
		t.Errorf("a strategic token: %s; want 403", res)
	}
	if after := len(e.auditEntries("incidents.read")); after != before {
		t.Errorf("refused listings wrote %d audit entries", after-before)
	}
}
