package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/postgis/pgtest"
	"github.com/tensionmap/tensionmap/tiles"
)

// cli runs the binary's Main in-process with its own environment and returns the
// exit status and what it printed.
type cli struct {
	tb     testing.TB
	env    map[string]string
	osUser func() string // the OS user, when a test sets it
}

func newCLI(tb testing.TB) *cli {
	tb.Helper()
	dir := tb.TempDir()
	key := filepath.Join(dir, "pseudonym.key")
	if err := os.WriteFile(key, []byte("a test key that is long enough to be accepted\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	c := &cli{tb: tb, env: map[string]string{
		"TENSIONMAP_DATABASE_URL":       pgtest.NewDatabase(tb),
		"TENSIONMAP_DATA_DIR":           dir,
		"TENSIONMAP_PSEUDONYM_KEY_FILE": key,
	}}
	if code, _, errOut := c.run("migrate"); code != 0 {
		tb.Fatalf("migrate: exit %d: %s", code, errOut)
	}
	return c
}

func (c *cli) run(args ...string) (int, string, string) {
	c.tb.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Config: DefaultConfig(), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return c.env[k] }, User: c.osUser}
	code := Main(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

func (c *cli) db() *postgis.DB {
	c.tb.Helper()
	db, err := postgis.Open(context.Background(), c.env["TENSIONMAP_DATABASE_URL"], postgis.Options{})
	if err != nil {
		c.tb.Fatal(err)
	}
	c.tb.Cleanup(db.Close)
	return db
}

func (c *cli) count(sql string) int64 {
	c.tb.Helper()
	var n int64
	if err := c.db().Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		c.tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

func writeFile(tb testing.TB, name, content string, gz bool) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	var data []byte
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(content))
		zw.Close()
		data = buf.Bytes()
	} else {
		data = []byte(content)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// policeUK is a small street-level file in police.uk's layout and quirks: CRLF, rows
// without coordinates, anti-social behaviour rows without a Crime ID (two of them
// identical) and one Crime ID listed twice.
var policeUK = strings.Join([]string{
	"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context",
	",2022-01,Thames Valley Police,Thames Valley Police,-0.978363,51.998687,On or near Eider Close,E01017648,Aylesbury Vale 001A,Anti-social behaviour,,",
	",2022-01,Thames Valley Police,Thames Valley Police,-0.978363,51.998687,On or near Eider Close,E01017648,Aylesbury Vale 001A,Anti-social behaviour,,",
	"aa01,2022-01,Thames Valley Police,Thames Valley Police,-0.975830,51.994790,On or near Beaver Close,E01017648,Aylesbury Vale 001A,Public order,Under investigation,",
	"aa02,2022-01,Thames Valley Police,Thames Valley Police,-0.761,52.041,\"On or near High Street, North\",E01016710,Milton Keynes 030A,Violence and sexual offences,Under investigation,",
	"aa03,2022-01,Thames Valley Police,Thames Valley Police,,,No Location,,,Robbery,Under investigation,",
	"aa03,2022-01,Thames Valley Police,Thames Valley Police,,,No Location,,,Robbery,Unable to prosecute suspect,",
	",2022-01,Thames Valley Police,Thames Valley Police,,,No Location,,,Anti-social behaviour,,",
}, "\r\n") + "\r\n"

type summary struct {
	Files []struct {
		File       string         `json:"file"`
		Read       int            `json:"read"`
		Inserted   int            `json:"inserted"`
		Duplicates int            `json:"duplicates"`
		Rejected   int            `json:"rejected"`
		RejectedBy map[string]int `json:"rejected_by"`
		Unlocated  int            `json:"unlocated"`
		Skipped    int            `json:"skipped"`
	} `json:"files"`
}

func decodeSummary(tb testing.TB, out string) summary {
	tb.Helper()
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		tb.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	return s
}

func TestIngestPoliceUK(t *testing.T) {
	c := newCLI(t)
	file := writeFile(t, "2022-01-thames-valley-street.csv.gz", "\ufeff"+policeUK, true)

	code, _, errOut := c.run("ingest", file)
	if code != 2 || !strings.Contains(errOut, "--strand") {
		t.Errorf("without --strand: exit %d, %q; want 2 and a hint to give --strand", code, errOut)
	}
	code, out, errOut := c.run("ingest", file, "--strand", "race", "--kind", "crime", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	s := decodeSummary(t, out).Files[0]
	if s.Read != 7 || s.Inserted != 6 || s.Duplicates != 1 || s.Rejected != 0 || s.Unlocated != 3 {
		t.Errorf("first run: %+v; want 7 read, 6 inserted, 1 duplicate (aa03 twice), 3 read without a location", s)
	}
	if got := c.count("SELECT count(*) FROM incidents WHERE source_ref LIKE 'row-%'"); got != 3 {
		t.Errorf("got %d derived references for the anti-social behaviour rows, want 3", got)
	}
	if got := c.count("SELECT count(*) FROM incidents WHERE precision = 'street' AND cell IS NOT NULL"); got != 4 {
		t.Errorf("got %d street-precision binned incidents, want 4", got)
	}
	code, out, _ = c.run("ingest", file, "--strand", "race", "--kind", "crime", "--json")
	if s := decodeSummary(t, out).Files[0]; code != 0 || s.Inserted != 0 || s.Duplicates != 7 {
		t.Errorf("second run: exit %d, %+v; want nothing inserted", code, s)
	}
	code, out, _ = c.run("ingest", file, "--strand", "race", "--kind", "crime", "--crime-type", "Robbery", "--json")
	if s := decodeSummary(t, out).Files[0]; code != 0 || s.Skipped != 5 || s.Read != 2 {
		t.Errorf("--crime-type Robbery: exit %d, %+v; want 5 skipped, 2 read", code, s)
	}
}

func TestIngestRejectsAndRejectFile(t *testing.T) {
	c := newCLI(t)
	file := writeFile(t, "reports.csv", strings.Join([]string{
		"source,source_ref,kind,strands,occurred,lat,lon,victim_ref",
		"third_party,T1,incident,religion,2025-02-01,52.04,-0.76,V-1",
		"third_party,T2,incident,religion,2025-02-30,52.04,-0.76,V-2",
		"third_party,T3,incident,religion;race,2025-02-01,52.04,-0.76,V-1",
		"third_party,T4,hate,religion,2025-02-01,52.04,-0.76,",
	}, "\n")+"\n", false)
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	code, out, errOut := c.run("ingest", file, "--reject-file", rejects)
	if code != 3 {
		t.Fatalf("exit %d, want 3 when records are rejected: %s %s", code, out, errOut)
	}
	for _, want := range []string{"rejected            2", "occurred", "kind"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
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
	if len(rows) != 3 {
		t.Fatalf("reject file has %d rows, want a header and 2", len(rows))
	}
	if h := strings.Join(rows[0][:5], ","); h != "input,line,record,field,reason" {
		t.Errorf("reject header starts %q", h)
	}
	if rows[1][1] != "3" || rows[1][3] != "occurred" || !strings.Contains(rows[1][4], "2025-02-30") {
		t.Errorf("first reject: %v; want line 3, field occurred, the value in the reason", rows[1][:5])
	}
	if rows[2][1] != "5" || rows[2][3] != "kind" || rows[2][5+1] != "T4" {
		t.Errorf("second reject: %v", rows[2])
	}
	// The same victim reference from the same source gets the same pseudonym.
	if got := c.count("SELECT count(DISTINCT victim_key) FROM incidents"); got != 1 {
		t.Errorf("got %d distinct victim keys for T1 and T3, want 1", got)
	}
	if got := c.count("SELECT count(*) FROM incidents WHERE victim_key = 'V-1'"); got != 0 {
		t.Error("a raw victim reference was stored")
	}
	code, _, _ = c.run("ingest", file, "--allow-rejects")
	if code != 0 {
		t.Errorf("--allow-rejects: exit %d, want 0", code)
	}
}

func TestIngestPartnerExportWithMapping(t *testing.T) {
	c := newCLI(t)
	file := writeFile(t, "partner.csv", "Case number,Date of incident,Type,Hate strand,Easting,Northing,Notes\n"+
		"C-101,03/04/2025 21:15,Hate incident,Disability,485000,238000,\"spat at, verbal abuse\"\n"+
		"C-102,04/04/2025 09:00,Hate crime,Race,485100,238100,\n", false)
	code, out, errOut := c.run("ingest", file, "--source", "third_party", "--json",
		"--map", "source_ref=Case number", "--map", "occurred=Date of incident", "--map", "kind=Type",
		"--map", "strands=Hate strand", "--map", "easting=Easting", "--map", "northing=Northing",
		"--date-format", "DD/MM/YYYY HH:mm")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if s := decodeSummary(t, out).Files[0]; s.Inserted != 2 {
		t.Fatalf("%+v; want 2 inserted", s)
	}
	var lat, lon float64
	if err := c.db().Pool.QueryRow(context.Background(), "SELECT lat, lon FROM incidents WHERE source_ref = 'C-101'").Scan(&lat, &lon); err != nil {
		t.Fatal(err)
	}
	if d := (lat-52.03390)*(lat-52.03390) + (lon+0.76233)*(lon+0.76233); d > 1e-8 {
		t.Errorf("BNG 485000,238000 stored at %.5f,%.5f, want 52.03390,-0.76233", lat, lon)
	}
}

// TestCasesLoad loads a partner's CSV export of cases with its own column names:
// the good rows are stored with their histories, the bad one reported by line,
// field and reason, and loading again stores nothing twice.
func TestCasesLoad(t *testing.T) {
	c := newCLI(t)
	file := writeFile(t, "cases.csv", "Case No,Date opened,Client,first_contact_at,closed_at,outcome,survey_at,satisfied_outcome,satisfied_handling\n"+
		"ASB-1,2026-03-02 10:00,C-1,2026-03-03 09:00,2026-03-20 12:00,resolved,2026-03-25,yes,no\n"+
		"ASB-2,yesterday,C-2,,,,,,\n"+
		"ASB-3,2026-03-02 10:00,C-3,,,,,,\n", false)
	args := []string{"cases", "load", "--partner", "council", "--map", "ref=Case No", "--map", "opened_at=Date opened", "--map", "victim_ref=Client", file}
	code, out, errOut := c.run(args...)
	if code != 0 || !strings.Contains(out, "2 stored, 0 already stored, 1 rejected") || !strings.Contains(out, `line 3: opened_at: "yesterday"`) {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if got := c.count("SELECT count(*) FROM cases WHERE partner = 'council' AND victim_key ~ '^[0-9a-f]{32}$' AND victim_key <> 'C-1'"); got != 2 {
		t.Errorf("%d council cases with pseudonymised complainants, want 2", got)
	}
	if got := c.count("SELECT count(*) FROM case_history WHERE action = 'opened'"); got != 2 {
		t.Errorf("%d opening history lines, want 2", got)
	}
	code, out, _ = c.run(args...)
	if code != 0 || !strings.Contains(out, "0 stored, 2 already stored") {
		t.Errorf("loading again: exit %d %s", code, out)
	}
}

func TestAreasPopulationAndExport(t *testing.T) {
	c := newCLI(t)
	areas := writeFile(t, "areas.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"CODE":"A1","NAME":"West"},"geometry":{"type":"Polygon","coordinates":[[[-0.80,52.00],[-0.76,52.00],[-0.76,52.06],[-0.80,52.06],[-0.80,52.00]]]}},
{"type":"Feature","properties":{"CODE":"A2","NAME":"East"},"geometry":{"type":"MultiPolygon","coordinates":[[[[-0.76,52.00],[-0.72,52.00],[-0.72,52.06],[-0.76,52.06],[-0.76,52.00]]]]}},
{"type":"Feature","properties":{"NAME":"No code"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}
]}`, false)
	code, out, errOut := c.run("areas", "import", areas, "--level", "beat", "--code-field", "CODE", "--name-field", "NAME",
		"--attribution", " Beats © Testshire Police ")
	if code != 3 || !strings.Contains(out, "2 new") || !strings.Contains(errOut, "no code") {
		t.Errorf("areas import: exit %d\n%s\n%s\nwant 2 new areas and the feature without a code rejected (exit 3)", code, out, errOut)
	}
	if got, err := c.db().AreasAttribution(context.Background()); err != nil || got != "Beats © Testshire Police" {
		t.Errorf("the credit stored with the areas: %q, %v", got, err)
	}
	pop := writeFile(t, "pop.csv.gz", "\ufeffArea code,Population\r\nA1,\"1,296\"\r\nA2,850\r\nZ9,12\r\n", true)
	code, out, errOut = c.run("areas", "population", pop, "--code-field", "Area code", "--population-field", "Population")
	if code != 0 || !strings.Contains(out, "2 areas updated") || !strings.Contains(out, "1 codes have no imported area") {
		t.Errorf("areas population: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := c.count("SELECT population FROM areas WHERE code = 'A1'"); got != 1296 {
		t.Errorf("A1 population %d, want 1296", got)
	}
	reports := writeFile(t, "reports.ndjson", `{"source":"council","source_ref":"K1","kind":"incident","strands":["race","religion"],"occurred":"2025-05-01","lat":52.03,"lon":-0.78}
{"source":"council","source_ref":"K2","kind":"crime","strands":"race","occurred":"2025-05-02","lat":52.03,"lon":-0.74}

{"source":"council","source_ref":"K3","kind":"crime","strands":"race","occurred":"2025-05-03","precision":"online"}
`, false)
	if code, out, errOut := c.run("ingest", reports); code != 0 {
		t.Fatalf("ingest: exit %d %s %s", code, out, errOut)
	}
	for code, want := range map[string]int64{"A1": 1, "A2": 1} {
		if got := c.count("SELECT coalesce(sum(n), 0) FROM area_counts JOIN areas a ON a.id = area_id WHERE a.code = '" + code + "'"); got != want {
			t.Errorf("area %s counts %d incidents, want %d", code, got, want)
		}
	}
	code, out, errOut = c.run("export", "cells", "--res", "7", "--format", "csv")
	if code != 0 {
		t.Fatalf("export csv: exit %d %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range rows[1:] {
		n := 0
		for _, ch := range r[4] {
			n = n*10 + int(ch-'0')
		}
		total += n
	}
	if rows[0][0] != "cell" || total != 2 {
		t.Errorf("export: header %v, total %d; want cell first and 2 located incidents", rows[0], total)
	}
	code, out, errOut = c.run("export", "cells", "--res", "9", "--strand", "religion", "--format", "geojson")
	if code != 0 {
		t.Fatalf("export geojson: exit %d %s", code, errOut)
	}
	var fc struct {
		Features []struct {
			Geometry struct {
				Type        string        `json:"type"`
				Coordinates [][][]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(out), &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 1 || fc.Features[0].Geometry.Type != "Polygon" || len(fc.Features[0].Geometry.Coordinates[0]) != 7 ||
		fc.Features[0].Properties["count"] != 1.0 || fc.Features[0].Properties["strand_religion"] != 1.0 {
		t.Errorf("geojson export: %s", out)
	}
	if code, _, errOut := c.run("export", "cells", "--res", "12"); code != 2 || !strings.Contains(errOut, "resolutions") {
		t.Errorf("--res 12: exit %d %q; want 2 naming the roll-up resolutions", code, errOut)
	}
}

func TestDemoLoad(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	code, stdout, errOut := c.run("demo", "--rows", "3000", "--years", "2", "--end", "2026-01-31", "--out", out, "--load")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	for _, f := range []string{"incidents.csv.gz", "areas.geojson", "population.csv", "trigger-events.csv", "truth.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("demo --out wrote no %s", f)
		}
	}
	if got := c.count("SELECT count(*) FROM incidents"); got != 3000 {
		t.Errorf("%d incidents loaded, want 3000", got)
	}
	if got := c.count("SELECT count(*) FROM areas WHERE population > 0"); got < 100 {
		t.Errorf("%d areas with a population, want the demo's", got)
	}
	// Cases follow the demo's reports, with realistic delays: most first contacts
	// on time, some late; most closed cases surveyed, a few declined, a few not.
	opened := c.count("SELECT count(*) FROM cases")
	late := c.count("SELECT count(*) FROM cases WHERE first_contact_at IS NOT NULL AND first_contact_at::date > opened_at::date + 4")
	closed := c.count("SELECT count(*) FROM cases WHERE closed_at IS NOT NULL")
	unsurveyed := c.count("SELECT count(*) FROM cases WHERE closed_at IS NOT NULL AND survey_at IS NULL")
	if opened < 100 || late == 0 || late*4 > opened || closed == 0 || unsurveyed == 0 || unsurveyed*3 > closed {
		t.Errorf("demo cases: %d opened, %d first contacts more than 4 days late, %d closed, %d of them never surveyed", opened, late, closed, unsurveyed)
	}
	// All three kinds of closed case: surveyed, declined, never surveyed.
	declined := c.count("SELECT count(*) FROM cases WHERE closed_at IS NOT NULL AND survey_at IS NOT NULL AND survey_declined")
	if declined == 0 || declined*5 > closed-unsurveyed {
		t.Errorf("demo cases: %d closed, %d surveys declined, want a few", closed, declined)
	}
	if !strings.Contains(stdout, "victim cases") {
		t.Errorf("the demo does not say it loaded cases: %s", stdout)
	}
	code, stdout, _ = c.run("demo", "--rows", "3000", "--load", "--if-empty")
	if code != 0 || !strings.Contains(stdout, "already holds 3000") {
		t.Errorf("second demo --if-empty: exit %d %q", code, stdout)
	}
	// The files load through ingest too, as duplicates of what the demo stored.
	code, stdout, _ = c.run("ingest", filepath.Join(out, "incidents.csv.gz"), "--json")
	if s := decodeSummary(t, stdout).Files[0]; code != 0 || s.Duplicates != 3000 {
		t.Errorf("ingest of the demo file: exit %d, %+v; want 3000 duplicates", code, s)
	}
}

func TestServe(t *testing.T) {
	c := newCLI(t)
	cfg := DefaultConfig()
	cfg.DatabaseURL = c.env["TENSIONMAP_DATABASE_URL"]
	cfg.Listen = "127.0.0.1:0"
	// serve opens a basemap archive at start; its routes stay behind the sign-in.
	var archive bytes.Buffer
	tl := maptile.New(0, 0, 0)
	raw, err := mvt.Marshal(mvt.Layers{{Name: "earth", Version: 2, Extent: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tiles.WriteArchive(&archive, tiles.ArchiveSpec{Tiles: map[maptile.Tile][]byte{tl: raw}}); err != nil {
		t.Fatal(err)
	}
	cfg.BasemapPMTiles = writeFile(t, "basemap.pmtiles", archive.String(), false)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, context.Background(), cfg)
	// Wait for the migrations the server applies in the background.
	for i := 0; i < 100; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`, "/": "Sign in"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %s; want 200 with %q", path, resp.StatusCode, body, want)
		}
	}
	if resp, err := http.Get(base + "/basemap.json"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /basemap.json without a session: %v %v; want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	if err := stop(); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// startServe runs serve in this process, as `tensionmap serve` does, until ctx ends
// or stop is called; it returns the address it answers on once it listens. stop
// cancels it and returns what Run returned; the test's cleanup stops it too.
func startServe(t *testing.T, ctx context.Context, cfg Config) (base string, stop func() error) {
	t.Helper()
	addr := make(chan string, 1)
	s := &serveCmd{cfg: cfg, log: cfg.Logger(), onReady: func(a string) { addr <- a }}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(time.Minute):
				runErr = errors.New("serve did not shut down within a minute")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a, stop
	case err := <-done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not start")
	}
	return "", stop
}

func TestUsageAndConfigErrors(t *testing.T) {
	c := &cli{tb: t, env: map[string]string{}}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"unknown command", []string{"frobnicate"}, nil, 2, "unknown command"},
		{"no database", []string{"migrate"}, nil, 1, "TENSIONMAP_DATABASE_URL"},
		{"bad resolution", []string{"migrate", "--resolutions", "6,16"}, nil, 2, "outside H3's 0 to 15"},
		{"bad env resolution", []string{"migrate"}, map[string]string{"TENSIONMAP_RESOLUTIONS": "six"}, 2, "TENSIONMAP_RESOLUTIONS"},
		{"short key", []string{"migrate", "--pseudonym-key-file", writeFile(t, "k", "short", false)}, nil, 2, "fewer than 32"},
		{"bad zone", []string{"migrate", "--time-zone", "Mars/Olympus"}, nil, 2, "time-zone"},
		{"ingest without files", []string{"ingest", "--database-url", "postgres://x@localhost:1/x"}, nil, 2, "at least one file"},
		{"unknown eval scenario", []string{"eval", "--scenario", "regional"}, nil, 2, "towns or national"},
		{"help", []string{"help"}, nil, 0, ""},
		{"missing basemap", []string{"serve", "--basemap-pmtiles", "no-such.pmtiles"}, nil, 2, "basemap-pmtiles: stat no-such.pmtiles"},
		{"basemap and style", []string{"serve"}, map[string]string{"TENSIONMAP_BASEMAP_PMTILES": writeFile(t, "a.pmtiles", "x", false),
			"TENSIONMAP_BASEMAP_STYLE": "https://tiles.example/style.json"}, 2, "set one of them, not both"},
		// A truncated archive stops serve at start, before it listens, with the reason.
		{"truncated basemap", []string{"serve", "--database-url", "postgres://x@localhost:1/x", "--listen", "127.0.0.1:0",
			"--basemap-pmtiles", writeFile(t, "cut.pmtiles", "PMTiles\x03\x7f\x00", false)}, nil, 1, "cut short"},
		{"not a basemap", []string{"serve", "--database-url", "postgres://x@localhost:1/x", "--listen", "127.0.0.1:0",
			"--basemap-pmtiles", writeFile(t, "page.pmtiles", strings.Repeat("<html>", 40), false)}, nil, 1, "not a PMTiles archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.env = tt.env
			if c.env == nil {
				c.env = map[string]string{}
			}
			code, out, errOut := c.run(tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, output %q; want exit %d mentioning %q", code, out+errOut, tt.code, tt.want)
			}
		})
	}
}
