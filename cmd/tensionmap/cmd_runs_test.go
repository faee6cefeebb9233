package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestScanBackfillRunsAndClear: a backfill over the demo's last weeks is listed by
// runs with its days, and clear-backfill deletes its alerts.
func TestScanBackfillRunsAndClear(t *testing.T) {
	c := newCLI(t)
	c.env["TENSIONMAP_SCAN_REPLICATES"] = "19"
	c.must("demo", "--rows", "3000", "--years", "2", "--end", "2026-01-31", "--out", t.TempDir(), "--load")
	for _, bad := range [][]string{
		{"scan", "--from", "2026-01-31", "--to", "2026-01-01"},
		{"scan", "--from", "2026-01-01", "--every", "month"},
		{"scan", "--to", "2026-01-01"},
		{"scan", "--from", "2026-01-01", "--as-of", "2026-01-02"},
	} {
		if code, _, _ := c.run(bad...); code != 2 {
			t.Errorf("%s: exit %d, want 2", strings.Join(bad, " "), code)
		}
	}
	out := c.must("scan", "--from", "2026-01-10", "--to", "2026-01-31", "--progress", "none")
	m := regexp.MustCompile(`backfill (\d+): 4 days from 2026-01-10 to 2026-01-31`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("scan --from: %s", out)
	}
	id := m[1]
	if n := c.count("SELECT count(*) FROM engine_runs WHERE backfill_id = " + id + " AND status = 'done'"); n != 4 {
		t.Errorf("%d days of the backfill done, want 4", n)
	}
	list := c.must("runs")
	if !strings.Contains(list, "STATUS") || !regexp.MustCompile(`(?m)^`+id+`\s+2026-01-10\.\.2026-01-31\s+backfill\s+done`).MatchString(list) {
		t.Errorf("runs:\n%s", list)
	}
	days := c.must("runs", "--backfill", id)
	if strings.Count(days, "backfill "+id) != 4 {
		t.Errorf("runs --backfill %s:\n%s", id, days)
	}
	alerts := c.count("SELECT count(*) FROM alerts WHERE backfill_id = " + id)
	out = c.must("runs", "clear-backfill", id)
	if !strings.Contains(out, "cleared") || c.count("SELECT count(*) FROM alerts WHERE backfill_id IS NOT NULL") != 0 {
		t.Errorf("clear-backfill (%d alerts): %s", alerts, out)
	}
	if code, _, _ := c.run("runs", "clear-backfill", id+"9"); code == 0 {
		t.Error("clearing no backfill succeeded")
	}
}
