package web_test

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

// TestReview: the review's answer carries the database's figures for those who see
// exact counts; a strategic user's carries none from 1 to k-1, with every count
// rounded, in the answer, the page and the exports; exports are audited.
func TestReview(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runEngine()
	police, strategic := e.as(access.Police), e.as(access.Strategic)
	const q = "?from=2026-04-01&to=2026-06-30&level=lsoa"
	raw, err := e.db.Review(e.ctx, geo.ReviewQuery{From: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), Level: "lsoa", Today: testNow})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Review struct {
			From, To string
			Totals   []struct {
				Key             string
				Count, Previous *int
				Change          *float64 `json:"change_pct"`
			}
			Strands []struct {
				Key   string
				Count *int
			}
			Months []map[string]any
			Areas  []struct{ Code string }
		}
	}
	e.getJSON(police, "/api/v1/review"+q, &got)
	rv := got.Review
	if rv.From != "2026-04-01" || len(rv.Months) != 24 || len(rv.Areas) != len(raw.Areas) || len(rv.Totals) != 3 {
		t.Fatalf("review %+v", rv)
	}
	if *rv.Totals[0].Count != raw.Period.Reports || *rv.Totals[0].Previous != raw.YearEarlier.Reports || raw.Period.Reports == 0 {
		t.Errorf("totals %d/%d; the database gives %d/%d", *rv.Totals[0].Count, *rv.Totals[0].Previous, raw.Period.Reports, raw.YearEarlier.Reports)
	}
	if pct, ok := geo.PctChange(raw.Period.Reports, raw.YearEarlier.Reports); ok && (rv.Totals[0].Change == nil || abs(*rv.Totals[0].Change-pct) > 0.051) {
		t.Errorf("change %v; want %.2f", rv.Totals[0].Change, pct)
	}
	for _, s := range rv.Strands {
		if *s.Count != raw.Period.ByStrand[s.Key] {
			t.Errorf("strand %s: %d; the database gives %d", s.Key, *s.Count, raw.Period.ByStrand[s.Key])
		}
	}

	// A strategic user: no small count anywhere, every count a multiple of 5.
	body := e.get(strategic, "/api/v1/review"+q).body
	var tree any
	if err := json.Unmarshal(body, &tree); err != nil {
		t.Fatal(err)
	}
	small, checked := 0, 0
	var walk func(path string, v any)
	countKeys := map[string]bool{"count": true, "previous": true, "rise": false, "with_key": true, "people": true, "repeat_people": true,
		"repeat_reports": true, "crimes": true, "with_outcome": true, "positive": true, "total": true}
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if n, ok := c.(float64); ok && (countKeys[k] || strings.Contains(path, ".months") && k != "month") {
					checked++
					if n > 0 && n < 3 || int(n)%5 != 0 {
						small++
						t.Errorf("strategic review %s.%s = %v", path, k, n)
					}
				}
				walk(path+"."+k, c)
			}
		case []any:
			for _, c := range x {
				walk(path, c)
			}
		}
	}
	walk("", tree)
	if checked < 200 {
		t.Errorf("only %d counts checked", checked)
	}
	page := string(e.get(strategic, "/review"+q).body)
	if n := strings.Count(page, "<svg"); n < 4 {
		t.Errorf("the review page has %d charts and maps; want 4", n)
	}
	if !strings.Contains(page, "withheld (w/h)") {
		t.Error("the strategic page does not say counts are withheld")
	}

	// Exports, audited; a strategic user's withhold small counts too.
	before := len(e.auditEntries("review.export"))
	r := e.get(strategic, "/review/areas.csv"+q)
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || r.status != 200 || len(rows) != len(raw.Areas)+1 || rows[0][0] != "code" {
		t.Fatalf("areas.csv: %s, %d rows, %v", r.header.Get("Content-Type"), len(rows), err)
	}
	withheld := 0
	for _, row := range rows[1:] {
		for _, c := range []string{row[4], row[5]} {
			if c == "withheld" {
				withheld++
			} else if c == "1" || c == "2" {
				t.Errorf("strategic areas.csv carries %s: %v", c, row)
			}
		}
	}
	if withheld == 0 {
		t.Error("no area withheld in the strategic export: the test shows little")
	}
	gj := e.get(police, "/review/hotspots.geojson"+q)
	var fc struct {
		Type     string
		Features []struct{ Properties map[string]any }
	}
	if err := json.Unmarshal(gj.body, &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) == 0 {
		t.Errorf("hotspots.geojson: %v, %d features", err, len(fc.Features))
	}
	for _, name := range []string{"strands.csv", "months.csv"} {
		if r := e.get(police, "/review/"+name+q); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s: %s", name, r)
		}
	}
	if got := len(e.auditEntries("review.export")); got != before+4 {
		t.Errorf("review exports audited: %d then %d; want 4 more", before, got)
	}

	for query, field := range map[string]string{"?preset=custom": "from", "?preset=decade": "preset", "?from=2026-06-01&to=2026-05-01": "to",
		"?level=planet": "level", "?colour=red": "colour"} {
		if r := e.get(police, "/api/v1/review"+query); r.status != 400 || !strings.Contains(r.message(t), field) {
			t.Errorf("%s: %s; want 400 naming %s", query, r, field)
		}
	}
}
