package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/geo"
)

func TestDemoLoadsOutcomes(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	code, stdout, errOut := c.run("demo", "--rows", "3000", "--years", "2", "--end", "2026-01-31", "--out", out, "--load")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "loaded the demo's outcomes") {
		t.Errorf("the demo does not say it loaded outcomes:\n%s", stdout)
	}
	stored := c.count("SELECT count(*) FROM outcomes")
	unmatched := c.count(`SELECT count(*) FROM outcomes o WHERE NOT EXISTS (SELECT 1 FROM incidents i JOIN sources s ON s.id = i.source_id
		WHERE s.name = 'police' AND i.source_ref = o.crime_ref)`)
	if stored < 1000 || unmatched != 5 {
		t.Errorf("%d outcomes stored, %d of them unmatched; want a police crime's worth and the 5 of crimes not in the demo", stored, unmatched)
	}
	if got := c.count(`SELECT count(*) FROM audit_log WHERE action = 'demo.load' AND (params->>'outcomes')::bigint = ` + strconv.FormatInt(stored, 10)); got != 1 {
		t.Errorf("got %d audit entries of the demo load with its outcomes, want 1", got)
	}

	// The review's figures: a sanction detection rate.
	counts, err := c.db().CrimeOutcomes(context.Background(), geo.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if counts.Crimes < 1500 || counts.WithOutcome < counts.Crimes*9/10 || counts.PositiveRate() < 0.10 || counts.PositiveRate() > 0.21 {
		t.Errorf("demo crime outcomes %+v (rate %.3f); want most crimes with an outcome and about 15%% positive", counts, counts.PositiveRate())
	}

	// outcomes.csv loads through ingest too, as duplicates of what the demo stored.
	code, stdout, errOut = c.run("ingest", filepath.Join(out, "outcomes.csv"), "--json")
	if code != 0 {
		t.Fatalf("ingest of the demo's outcomes.csv: exit %d: %s %s", code, stdout, errOut)
	}
	var s outcomeSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || len(s.Files) != 1 || s.Files[0].Outcomes == nil {
		t.Fatalf("summary: %v\n%s", err, stdout)
	}
	if o := s.Files[0].Outcomes; int64(o.Read) != stored || o.Inserted != 0 || o.Rejected != 0 || int64(o.NotYetMatched) != unmatched {
		t.Errorf("ingest of outcomes.csv: %+v; want %d read, all duplicates, %d not yet matched", *o, stored, unmatched)
	}
}
