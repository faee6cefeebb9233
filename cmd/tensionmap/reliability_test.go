package main

// The reliability suite attacks the real binary as an outsider and as each role
// would: kill -9 of PostgreSQL, of the ingest and of the server at chosen moments, a
// PostgreSQL restart under load, a soak of mixed traffic, the hostile-file corpus,
// slow clients, the role x route matrix and the inference attacks. It runs only with
// TENSIONMAP_RELIABILITY=1 (make reliability), against a PostgreSQL cluster of its
// own under a temporary directory; all traffic stays on 127.0.0.1 and every loop is
// bounded in count and time. TENSIONMAP_RELIABILITY_SHORT=1 runs the short version
// (CI); TENSIONMAP_RELIABILITY_REPORT names the Markdown file the table is written to.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/postgis/localpg"
)

// finding is one row of the report.
type finding struct {
	attack, done, result, figures string
}

// suite is what the attacks share: the binary, the cluster, the demo files and the
// report's rows.
type suite struct {
	t       *testing.T
	ctx     context.Context
	short   bool
	bin     string
	dir     string
	pg      localpg.Options
	pgURL   string // the cluster's default database
	gen     *synth.Generator
	files   synth.Files
	rows    int
	soak    time.Duration
	keyFile string

	mu       sync.Mutex
	findings []finding
}

func (s *suite) record(attack, done string, ok bool, figures string, args ...any) {
	res := "pass"
	if !ok {
		res = "FAIL"
		s.t.Errorf("%s: %s", attack, fmt.Sprintf(figures, args...))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The report names the suite's scratch folder, not where it happened to be.
	text := fmt.Sprintf(figures, args...)
	if s.dir != "" {
		text = strings.ReplaceAll(text, s.dir, "$WORK")
	}
	s.findings = append(s.findings, finding{attack, done, res, text})
	s.t.Logf("%s: %s — %s", attack, res, fmt.Sprintf(figures, args...))
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return def
}

func TestReliability(t *testing.T) {
	if os.Getenv("TENSIONMAP_RELIABILITY") != "1" {
		t.Skip("the reliability suite runs with TENSIONMAP_RELIABILITY=1 (make reliability)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Minute)
	defer cancel()
	s := &suite{t: t, ctx: ctx, short: os.Getenv("TENSIONMAP_RELIABILITY_SHORT") == "1"}
	s.rows, s.soak = 100_000, envDuration("TENSIONMAP_SOAK", 10*time.Minute)
	if s.short {
		s.rows, s.soak = 20_000, envDuration("TENSIONMAP_SOAK", time.Minute)
	}
	if n, err := strconv.Atoi(os.Getenv("TENSIONMAP_RELIABILITY_ROWS")); err == nil && n >= 1000 {
		s.rows = n
	}
	s.bin = os.Getenv("TENSIONMAP_BIN")
	if s.bin == "" {
		s.bin = binary(t)
	}
	if abs, err := filepath.Abs(s.bin); err == nil {
		s.bin = abs
	}
	var err error
	// A short directory: the cluster's Unix socket path is limited to 107 bytes.
	if s.dir, err = os.MkdirTemp("", "tm-rel-"); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(s.dir)
	s.pg = localpg.Options{Dir: filepath.Join(s.dir, "pg"), Port: freePort(t), Database: "reliability"}
	if s.pgURL, err = localpg.Ensure(ctx, s.pg); err != nil {
		t.Fatal(err)
	}
	defer localpg.Stop(context.Background(), s.pg)
	s.keyFile = filepath.Join(s.dir, "pseudonym.key")
	if err := os.WriteFile(s.keyFile, []byte("the reliability suite's key, thirty-two bytes or more\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.gen, err = synth.New(synth.Options{Seed: 3, Rows: s.rows, Years: 2, End: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)}); err != nil {
		t.Fatal(err)
	}
	if s.files, err = synth.WriteDir(filepath.Join(s.dir, "demo"), s.gen); err != nil {
		t.Fatal(err)
	}
	started := time.Now()

	s.killIngest()
	s.killPostgres()
	s.killServerMidIntake()
	s.restartUnderLoad()
	s.soakMixed()
	s.hostileFiles()
	s.slowClients()
	s.goTests("role x route matrix", "every route in web/routes.go as anonymous, each role and a partner token",
		"TestEveryRouteHasAPolicy|TestEveryRouteAsEveryRole|TestNoRouteChangesTheAuditLog|TestMethodNotAllowed", "", "TestEveryRouteAsEveryRole")
	s.goTests("inference attacks", "differencing over periods and areas, Gi* z inversion, a linear-algebra attack over every endpoint (TENSIONMAP_ATTACK_SIZE=large)",
		"TestInference|TestStrategicSeesNoSmallCount", "TENSIONMAP_ATTACK_SIZE=large", "TestInference")

	if path := os.Getenv("TENSIONMAP_RELIABILITY_REPORT"); path != "" {
		if err := s.writeReport(path, time.Since(started)); err != nil {
			t.Error(err)
		}
	}
}

// writeReport writes the table of the run.
func (s *suite) writeReport(path string, took time.Duration) error {
	var b strings.Builder
	mode, cmd := "long", "make reliability"
	if s.short {
		mode, cmd = "short", "make reliability RELIABILITY_SHORT=1"
	}
	pass := 0
	for _, f := range s.findings {
		if f.result == "pass" {
			pass++
		}
	}
	fmt.Fprintf(&b, "# Reliability\n\nThe figures of the last run of `%s` (%s version: %d demo rows, soak %s), %s UTC,\n",
		cmd, mode, s.rows, s.soak, time.Now().UTC().Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "on %d CPUs, in %s: %d of %d checks pass. The suite (`cmd/tensionmap/reliability_test.go`) builds\n", runtime.NumCPU(), took.Round(time.Second), pass, len(s.findings))
	b.WriteString("and drives the real binary against a PostgreSQL cluster of its own; all traffic stays on 127.0.0.1 and every loop\nis bounded in count and time. `make reliability` rewrites this file.\n\n")
	b.WriteString("| attack | what was done | result | figures |\n|---|---|---|---|\n")
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }
	for _, f := range s.findings {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(f.attack), cell(f.done), f.result, cell(f.figures))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// database creates an empty database with the schema, the demo areas and their
// populations, and returns its URL and an open pool.
func (s *suite) database(name string) (string, *postgis.DB) {
	s.t.Helper()
	u, drop, err := postgis.ScratchDatabase(s.ctx, s.pgURL, "rel_"+name)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { drop() })
	db, err := postgis.Open(s.ctx, u, postgis.Options{MaxConns: 4})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(db.Close)
	if _, err := db.Migrate(s.ctx); err != nil {
		s.t.Fatal(err)
	}
	if _, err := db.ImportAreas(s.ctx, s.gen.GeoAreas()); err != nil {
		s.t.Fatal(err)
	}
	if _, err := db.SetPopulation(s.ctx, s.gen.Populations()); err != nil {
		s.t.Fatal(err)
	}
	return u, db
}

// env is the binary's environment for a database.
func (s *suite) env(dbURL string) []string {
	return append(os.Environ(), "TENSIONMAP_DATABASE_URL="+dbURL, "TENSIONMAP_DATA_DIR="+s.dir,
		"TENSIONMAP_PSEUDONYM_KEY_FILE="+s.keyFile, "TENSIONMAP_LOG_LEVEL=error", "USER=reliability")
}

// run runs the binary to its end and returns its output; a failure is fatal.
func (s *suite) run(dbURL, stdin string, args ...string) string {
	s.t.Helper()
	cmd := exec.CommandContext(s.ctx, s.bin, args...)
	cmd.Env = s.env(dbURL)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("tensionmap %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// server is a running `tensionmap serve`.
type server struct {
	cmd    *exec.Cmd
	base   string
	stderr *bytes.Buffer
	done   chan error
}

func (s *suite) serve(dbURL string, extra ...string) *server {
	s.t.Helper()
	cmd := exec.Command(s.bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--secure-cookies=false"}, extra...)...)
	cmd.Env = s.env(dbURL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	srv := &server{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: srv.stderr}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "listening on "); ok {
			srv.base = strings.TrimSpace(after)
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	go func() { srv.done <- cmd.Wait() }()
	if srv.base == "" {
		cmd.Process.Kill()
		s.t.Fatalf("the server did not say where it listens")
	}
	for i := 0; i < 300; i++ {
		if st, _ := srv.status(nil, "GET", "/readyz", nil); st == 200 {
			return srv
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.stop()
	s.t.Fatalf("the server never became ready")
	return nil
}

// stop ends the server with SIGTERM, then SIGKILL after ten seconds.
func (srv *server) stop() {
	srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.done:
	case <-time.After(10 * time.Second):
		srv.cmd.Process.Kill()
		<-srv.done
	}
}

func (srv *server) kill9() {
	srv.cmd.Process.Signal(syscall.SIGKILL)
	<-srv.done
}

func (srv *server) rss() int64 { return rssOf(srv.cmd.Process.Pid) }

var httpClient = &http.Client{Timeout: 30 * time.Second}

// status makes one request and returns its status (0 on a transport error).
func (srv *server) status(c *http.Client, method, path string, body io.Reader, headers ...string) (int, error) {
	if c == nil {
		c = httpClient
	}
	req, err := http.NewRequest(method, srv.base+path, body)
	if err != nil {
		return 0, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<20))
	res.Body.Close()
	return res.StatusCode, nil
}

// signIn returns a client with a session of the user.
func (srv *server) signIn(user, password string) (*http.Client, int, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	res, err := c.PostForm(srv.base+"/signin", url.Values{"username": {user}, "password": {password}})
	if err != nil {
		return nil, 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return c, res.StatusCode, nil
}

// rssOf is a process's resident set in bytes, 0 when it cannot be read.
func rssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

// median of a copy of xs.
func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	c := slices.Clone(xs)
	slices.Sort(c)
	return c[len(c)/2]
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// rollupsMatch compares every roll-up with a fresh count from the incidents and
// returns the number of mismatched keys, and the incidents stored.
func rollupsMatch(ctx context.Context, db *postgis.DB) (bad, incidents int64, err error) {
	checks := []string{
		// day_counts against the incidents.
		`SELECT count(*) FROM (SELECT occurred_from AS day, (kind::bigint << 62) | (source_id::bigint << 48) | strands AS class, count(*) AS n
			FROM incidents GROUP BY 1, 2) i FULL JOIN (SELECT day, class, sum(n) AS n FROM day_counts GROUP BY 1, 2) d USING (day, class) WHERE i.n IS DISTINCT FROM d.n`,
		// area_counts (from set_day_counts) against the incidents' areas.
		`SELECT count(*) FROM (SELECT occurred_from AS day, a AS area_id, (kind::bigint << 62) | (source_id::bigint << 48) | strands AS class, count(*) AS n
			FROM incidents CROSS JOIN unnest(areas) a GROUP BY 1, 2, 3) i FULL JOIN area_counts c USING (day, area_id, class) WHERE i.n IS DISTINCT FROM c.n`,
		// area_prefix_counts (the tree of area counts) against the incidents' areas by
		// month, summed into each node that holds the month.
		`SELECT count(*) FROM (SELECT node, a AS area_id, c.idx, count(*) AS n
			FROM incidents i CROSS JOIN unnest(i.areas) a
			JOIN rollup_classes c ON c.class = (i.kind::bigint << 62) | (i.source_id::bigint << 48) | i.strands
			CROSS JOIN LATERAL fenwick_nodes(month_index(i.occurred_from)) node GROUP BY 1, 2, 3) i
			FULL JOIN (SELECT node, area_id, v.i::integer AS idx, sum(v.n) AS n FROM area_prefix_counts CROSS JOIN unnest(counts) WITH ORDINALITY AS v(n, i)
				GROUP BY 1, 2, 3 HAVING sum(v.n) <> 0) p
			USING (node, area_id, idx) WHERE i.n IS DISTINCT FROM p.n`,
		// cell_day_counts against the incidents' cells, at the resolutions it rolls up (7 and coarser).
		`SELECT count(*) FROM (SELECT h3_res(c) AS res, c AS cell, occurred_from AS day, (kind::bigint << 62) | (source_id::bigint << 48) | strands AS class, count(*) AS n
			FROM incidents CROSS JOIN unnest(cells) c WHERE h3_res(c) <= 7 GROUP BY 1, 2, 3, 4) i
			FULL JOIN (SELECT res, cell, day, class, sum(n) AS n FROM cell_day_counts GROUP BY 1, 2, 3, 4) d USING (res, cell, day, class) WHERE i.n IS DISTINCT FROM d.n`,
		// cell_month_counts and cell_year_counts against the incidents' cells, at the
		// resolutions they roll up (8 and coarser).
		`SELECT count(*) FROM (SELECT h3_res(c) AS res, c AS cell, date_trunc('month', occurred_from)::date AS month, (kind::bigint << 62) | (source_id::bigint << 48) | strands AS class, count(*) AS n
			FROM incidents CROSS JOIN unnest(cells) c WHERE h3_res(c) <= 8 GROUP BY 1, 2, 3, 4) i
			FULL JOIN (SELECT res, cell, month, class, sum(n) AS n FROM cell_month_counts GROUP BY 1, 2, 3, 4) d USING (res, cell, month, class) WHERE i.n IS DISTINCT FROM d.n`,
		`SELECT count(*) FROM (SELECT h3_res(c) AS res, c AS cell, date_trunc('year', occurred_from)::date AS year, (kind::bigint << 62) | (source_id::bigint << 48) | strands AS class, count(*) AS n
			FROM incidents CROSS JOIN unnest(cells) c WHERE h3_res(c) <= 8 GROUP BY 1, 2, 3, 4) i
			FULL JOIN (SELECT res, cell, year, class, sum(n) AS n FROM cell_year_counts GROUP BY 1, 2, 3, 4) d USING (res, cell, year, class) WHERE i.n IS DISTINCT FROM d.n`,
		// cell_year_strands, up to resolution 10.
		`SELECT count(*) FROM (SELECT h3_res(c) AS res, c AS cell, date_trunc('year', occurred_from)::date AS year, strands AS class, count(*) AS n
			FROM incidents CROSS JOIN unnest(cells) c WHERE h3_res(c) <= 10 GROUP BY 1, 2, 3, 4) i
			FULL JOIN (SELECT res, cell, year, class, sum(n) AS n FROM cell_year_strands GROUP BY 1, 2, 3, 4) d USING (res, cell, year, class) WHERE i.n IS DISTINCT FROM d.n`,
	}
	for _, q := range checks {
		var n int64
		if err := db.Pool.QueryRow(ctx, q).Scan(&n); err != nil {
			return 0, 0, err
		}
		bad += n
	}
	err = db.Pool.QueryRow(ctx, `SELECT count(*) FROM incidents`).Scan(&incidents)
	return bad, incidents, err
}

// demoAreasBound is the demo town's extent.
func (s *suite) demoAreasBound() (west, south, east, north float64) {
	b, _ := geo.AreasBound(s.gen.GeoAreas())
	return b.Min.Lon(), b.Min.Lat(), b.Max.Lon(), b.Max.Lat()
}
