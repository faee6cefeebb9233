package main

import (
	"strconv"
	"strings"
	"testing"
)

// TestIngestMarksInterruptedRuns checks that an ingest, as it starts, marks a run
// left running by a process that died, and records its own run as done.
func TestIngestMarksInterruptedRuns(t *testing.T) {
	c := newCLI(t)
	dead := c.count(`INSERT INTO ingest_runs (origin, actor) VALUES ('cli', 'crashed') RETURNING id`)
	file := writeFile(t, "reports.csv", "source,source_ref,kind,strands,occurred,lat,lon\npolice,IR1,crime,race,2025-05-01,52.03,-0.78\n", false)
	code, out, errOut := c.run("ingest", file)
	if code != 0 {
		t.Fatalf("ingest: exit %d %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "inserted            1") {
		t.Errorf("summary lacks the one record inserted:\n%s", out)
	}
	if got := c.count(`SELECT count(*) FROM ingest_runs WHERE id = ` + strconv.FormatInt(dead, 10) + ` AND status = 'interrupted' AND finished_at IS NOT NULL`); got != 1 {
		t.Errorf("the crashed run was not marked interrupted")
	}
	if got := c.count(`SELECT count(*) FROM ingest_runs WHERE id <> ` + strconv.FormatInt(dead, 10) + ` AND status = 'done'`); got != 1 {
		t.Errorf("%d runs of this ingest done, want 1", got)
	}
}
