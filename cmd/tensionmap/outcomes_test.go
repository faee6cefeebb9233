package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outcomesCSV is an outcomes file in police.uk's layout and quirks (CRLF, quoted
// locations, rows without a location) for the crimes of policeUK and others: aa01
// charged, aa02 with two months of outcomes, zz99 a crime not loaded, aa03 an
// outcome type police.uk never used, and two rows to reject.
var outcomesCSV = strings.Join([]string{
	"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type",
	"aa01,2022-02,Thames Valley Police,Thames Valley Police,-0.975830,51.994790,On or near Beaver Close,E01017648,Aylesbury Vale 001A,Suspect charged",
	"aa02,2022-02,Thames Valley Police,Thames Valley Police,-0.761,52.041,\"On or near High Street, North\",E01016710,Milton Keynes 030A,Under investigation",
	"aa02,2022-03,Thames Valley Police,Thames Valley Police,-0.761,52.041,\"On or near High Street, North\",E01016710,Milton Keynes 030A,Unable to prosecute suspect",
	"zz99,2022-02,Thames Valley Police,Thames Valley Police,,,No location,,,Offender fined",
	"aa03,2022-03,Thames Valley Police,Thames Valley Police,,,No location,,,Sent to the moon",
	",2022-02,Thames Valley Police,Thames Valley Police,,,No location,,,Local resolution",
	"aa01,2022-1x,Thames Valley Police,Thames Valley Police,,,No location,,,Offender given a caution",
}, "\r\n") + "\r\n"

type outcomeSummary struct {
	Files []struct {
		File     string `json:"file"`
		Read     int    `json:"read"`
		Inserted int    `json:"inserted"`
		Rejected int    `json:"rejected"`
		Outcomes *struct {
			Read          int            `json:"read"`
			Inserted      int            `json:"inserted"`
			Duplicates    int            `json:"duplicates"`
			Rejected      int            `json:"rejected"`
			RejectedBy    map[string]int `json:"rejected_by"`
			Matched       int            `json:"matched"`
			NotYetMatched int            `json:"not_yet_matched"`
			Unmatched     []string       `json:"not_yet_matched_examples"`
			Positive      int            `json:"positive"`
			Unknown       int            `json:"unknown_type"`
		} `json:"outcomes"`
	} `json:"files"`
}

func TestIngestOutcomes(t *testing.T) {
	c := newCLI(t)
	street := writeFile(t, "2022-01-thames-valley-street.csv", policeUK, false)
	if code, _, errOut := c.run("ingest", street, "--strand", "race", "--kind", "crime"); code != 0 {
		t.Fatalf("street file: exit %d: %s", code, errOut)
	}
	// Told by its name; gzip and a byte order mark as ever.
	file := writeFile(t, "2022-03-thames-valley-outcomes.csv.gz", "\ufeff"+outcomesCSV, true)
	rejects := filepath.Join(t.TempDir(), "rejects.csv")

	code, out, errOut := c.run("ingest", file, "--reject-file", rejects)
	if code != 3 {
		t.Fatalf("exit %d, want 3 for the rejected rows: %s %s", code, out, errOut)
	}
	for _, want := range []string{
		"outcomes            7", "inserted            5", "rejected            2",
		"Crime ID                 1  e.g. line 7: Crime ID: required", "Month                    1  e.g. line 8: Month: \"2022-1x\" is not a month",
		"matched             4", "not yet matched     1", "e.g. Crime ID zz99",
		"positive            2", "unknown type        1", `"Sent to the moon"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if got := c.count("SELECT count(*) FROM outcomes WHERE run_id IS NOT NULL"); got != 5 {
		t.Errorf("got %d outcomes of a run, want 5 (aa02's two months kept)", got)
	}
	if got := c.count(`SELECT count(*) FROM latest_outcomes WHERE crime_ref = 'aa02' AND outcome = 'Unable to prosecute suspect'`); got != 1 {
		t.Error("aa02's latest outcome is not its later month's")
	}
	if got := c.count(`SELECT count(*) FROM audit_log WHERE action = 'ingest' AND params->>'format' = 'police-uk-outcomes'
		AND (params->>'inserted')::int = 5 AND (params->>'not_yet_matched')::int = 1 AND actor LIKE 'cli:%'`); got != 1 {
		t.Errorf("got %d audit entries of the outcomes load, want 1", got)
	}
	if got := c.count(`SELECT count(*) FROM ingest_runs WHERE origin = 'cli' AND status = 'done' AND summary->>'format' = 'police-uk-outcomes'`); got != 1 {
		t.Errorf("got %d recorded outcome runs, want 1", got)
	}

	f, err := os.Open(rejects)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != "7" || rows[1][3] != "Crime ID" || rows[2][1] != "8" || rows[2][3] != "Month" || !strings.Contains(rows[2][4], "2022-1x") {
		t.Errorf("reject file: %v; want lines 7 (Crime ID) and 8 (Month) with their reasons", rows)
	}

	// Again: nothing new, and it says so.
	code, out, _ = c.run("ingest", file, "--allow-rejects")
	if code != 0 || !strings.Contains(out, "inserted            0") || !strings.Contains(out, "nothing new") {
		t.Errorf("rerun: exit %d\n%s\nwant exit 0, nothing inserted and a note that nothing was new", code, out)
	}
	if got := c.count("SELECT count(*) FROM outcomes"); got != 5 {
		t.Errorf("got %d outcomes after the rerun, want 5", got)
	}

	// Told by its header under another name; zz99's crime arrives and then matches.
	more := writeFile(t, "2022-02-thames-valley-street.csv", strings.Join([]string{
		"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context",
		"zz99,2022-02,Thames Valley Police,Thames Valley Police,,,No Location,,,Robbery,Offender fined,",
	}, "\r\n")+"\r\n", false)
	if code, _, errOut := c.run("ingest", more, "--strand", "race", "--kind", "crime"); code != 0 {
		t.Fatalf("second street file: exit %d: %s", code, errOut)
	}
	plain := writeFile(t, "tv-2022-03.csv", outcomesCSV, false)
	code, out, errOut = c.run("ingest", plain, "--json", "--allow-rejects")
	if code != 0 {
		t.Fatalf("by header: exit %d: %s %s", code, out, errOut)
	}
	var s outcomeSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	if len(s.Files) != 1 || s.Files[0].Outcomes == nil {
		t.Fatalf("summary %s has no outcomes", out)
	}
	o := s.Files[0].Outcomes
	if o.Read != 7 || o.Inserted != 0 || o.Duplicates != 5 || o.Rejected != 2 || o.Matched != 5 || o.NotYetMatched != 0 ||
		len(o.Unmatched) != 0 || o.Positive != 2 || o.Unknown != 1 || s.Files[0].Read != 7 || s.Files[0].Rejected != 2 {
		t.Errorf("by header, after zz99 arrived: %+v; want 5 matched, nothing new", *o)
	}

	// Forced: a street-level file is not an outcomes file.
	code, _, errOut = c.run("ingest", street, "--format", "police-uk-outcomes")
	if code == 0 || !strings.Contains(errOut, `no \"Outcome type\" column`) && !strings.Contains(errOut, `no "Outcome type" column`) {
		t.Errorf("street file as outcomes: exit %d, %q; want a failure naming the missing column", code, errOut)
	}
	// The usage names the format.
	_, _, errOut = c.run("ingest", "--help")
	if !strings.Contains(errOut, "police-uk-outcomes") {
		t.Errorf("ingest --help does not name police-uk-outcomes:\n%s", errOut)
	}
}
