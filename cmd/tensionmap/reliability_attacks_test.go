package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paulmach/orb"
	"github.com/tensionmap/tensionmap/bench"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/postgis/localpg"
)

var moments = []struct {
	name     string
	fraction float64
}{{"early", 0.2}, {"middle", 0.5}, {"late", 0.8}}

// startIngest starts the CLI ingest of the demo file.
func (s *suite) startIngest(dbURL string) (*exec.Cmd, chan error) {
	// Small batches, so that a kill lands between many commits.
	cmd := exec.Command(s.bin, "ingest", s.files.Incidents, "--allow-rejects", "--progress", "none", "--json",
		"--batch-size", strconv.Itoa(max(500, s.rows/100)))
	cmd.Env = s.env(dbURL)
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	return cmd, done
}

// waitForRows polls the incidents until at least n are stored or the ingest ends;
// it says whether n was reached.
func (s *suite) waitForRows(db *postgis.DB, n int64, done chan error) (bool, error) {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err
			return false, nil
		default:
		}
		var got int64
		if err := db.Pool.QueryRow(s.ctx, `SELECT count(*) FROM incidents`).Scan(&got); err == nil && got >= n {
			return true, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false, fmt.Errorf("no %d rows after 10 minutes", n)
}

// reference loads the demo file once, uninterrupted: the count every other load must
// reach.
func (s *suite) reference() int64 {
	u, db := s.database("reference")
	s.run(u, "", "ingest", s.files.Incidents, "--allow-rejects", "--progress", "none")
	bad, n, err := rollupsMatch(s.ctx, db)
	if err != nil || bad != 0 || n == 0 {
		s.t.Fatalf("the uninterrupted load: %d incidents, %d roll-up mismatches, %v", n, bad, err)
	}
	return n
}

// killIngest kills the CLI ingest with SIGKILL early, in the middle and late in a
// load, reruns it, and checks that nothing was lost or doubled.
func (s *suite) killIngest() {
	want := s.reference()
	for _, m := range moments {
		u, db := s.database("kill_ingest_" + m.name)
		cmd, done := s.startIngest(u)
		reached, err := s.waitForRows(db, int64(m.fraction*float64(want)), done)
		if err != nil {
			s.t.Fatal(err)
		}
		var before int64
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		db.Pool.QueryRow(s.ctx, `SELECT count(*) FROM incidents`).Scan(&before)
		s.run(u, "", "ingest", s.files.Incidents, "--allow-rejects", "--progress", "none")
		bad, got, err := rollupsMatch(s.ctx, db)
		var running int64
		db.Pool.QueryRow(s.ctx, `SELECT count(*) FROM ingest_runs WHERE status = 'running'`).Scan(&running)
		s.record("kill -9 of the ingest ("+m.name+")", fmt.Sprintf("SIGKILL to `tensionmap ingest` at %.0f%% of %d source rows, then the load rerun", m.fraction*100, s.rows),
			err == nil && reached && before < want && got == want && bad == 0 && running == 0,
			"%d stored at the kill; after the rerun %d (want %d), %d roll-up keys differ from a fresh count; %d runs left 'running'%s",
			before, got, want, bad, running, errNote(err))
	}
}

func errNote(err error) string {
	if err != nil {
		return "; " + err.Error()
	}
	return ""
}

// postmasterPID reads the cluster's postmaster.pid.
func (s *suite) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(s.pg.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}

// restartPostgres starts the cluster again after a kill, retrying while the old
// server's processes go away.
func (s *suite) restartPostgres() error {
	var err error
	for range 30 {
		ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
		_, err = localpg.Ensure(ctx, s.pg)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return err
}

// killPostgres kills the postmaster with SIGKILL early, in the middle and late in a
// load, starts it again, reruns the load and checks the counts.
func (s *suite) killPostgres() {
	want := s.reference()
	for _, m := range moments {
		u, db := s.database("kill_pg_" + m.name)
		_, done := s.startIngest(u)
		reached, err := s.waitForRows(db, int64(m.fraction*float64(want)), done)
		if err != nil {
			s.t.Fatal(err)
		}
		pid := s.postmasterPID()
		if pid == 0 {
			s.t.Fatal("no postmaster.pid")
		}
		syscall.Kill(pid, syscall.SIGKILL)
		ingestErr := <-done
		if err := s.restartPostgres(); err != nil {
			s.t.Fatalf("PostgreSQL did not come back: %v", err)
		}
		db.Pool.Reset()
		var survived int64
		db.Pool.QueryRow(s.ctx, `SELECT count(*) FROM incidents`).Scan(&survived)
		s.run(u, "", "ingest", s.files.Incidents, "--allow-rejects", "--progress", "none")
		bad, got, err := rollupsMatch(s.ctx, db)
		s.record("kill -9 of PostgreSQL ("+m.name+")", fmt.Sprintf("SIGKILL to the postmaster at %.0f%% of %d source rows during `tensionmap ingest`, restart, the load rerun", m.fraction*100, s.rows),
			err == nil && reached && ingestErr != nil && survived < want && got == want && bad == 0,
			"the ingest ended with an error: %v; %d survived the crash; after the rerun %d (want %d), %d roll-up keys differ%s",
			ingestErr != nil, survived, got, want, bad, errNote(err))
	}
}

// partnerBatch is batch i of n records for the intake, in the project's NDJSON.
func (s *suite) partnerBatch(prefix string, i, n int) string {
	w, so, e, no := s.demoAreasBound()
	r := rand.New(rand.NewPCG(uint64(i), 7))
	var b strings.Builder
	end := time.Now().UTC().AddDate(0, 0, -2)
	strands := []string{"race", "religion", "sexual_orientation", "disability", "transgender"}
	for j := 0; j < n; j++ {
		fmt.Fprintf(&b, `{"source_ref":"%s-%d-%d","kind":"incident","strands":"%s","occurred":"%s","lat":%.5f,"lon":%.5f}`+"\n",
			prefix, i, j, strands[r.IntN(len(strands))], end.AddDate(0, 0, -r.IntN(300)).Format(time.DateOnly),
			so+(no-so)*(0.1+0.8*r.Float64()), w+(e-w)*(0.1+0.8*r.Float64()))
	}
	return b.String()
}

// intake posts one NDJSON body with the partner token.
func (srv *server) intake(token, body string) (int, error) {
	return srv.status(nil, "POST", "/api/v1/incidents", strings.NewReader(body),
		"Authorization", "Bearer "+token, "Content-Type", "application/x-ndjson")
}

// killServerMidIntake kills the server with SIGKILL while partners push batches,
// starts it again, repeats every batch and checks that each record is stored once.
func (s *suite) killServerMidIntake() {
	u, db := s.database("kill_server")
	token := strings.TrimSpace(s.run(u, "", "tokens", "create", "--role", "partner", "--source", "third_party", "--name", "kill test"))
	batches, per := 40, 250
	if s.short {
		batches = 20
	}
	srv := s.serve(u)
	var acked atomic.Int64
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := atomic.Int64{}
	killed := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= batches {
					return
				}
				st, _ := srv.intake(token, s.partnerBatch("KS", i, per))
				mu.Lock()
				statuses[st]++
				mu.Unlock()
				if st == 200 && acked.Add(1) == int64(batches/2) {
					close(killed)
				}
				select {
				case <-killed:
					return
				default:
				}
			}
		}()
	}
	select {
	case <-killed:
	case <-time.After(5 * time.Minute):
	}
	srv.kill9()
	wg.Wait()
	var atKill int64
	db.Pool.QueryRow(s.ctx, `SELECT count(*) FROM incidents`).Scan(&atKill)
	srv = s.serve(u)
	again := map[int]int{}
	for i := 0; i < batches; i++ {
		st, _ := srv.intake(token, s.partnerBatch("KS", i, per))
		again[st]++
	}
	srv.stop()
	bad, got, err := rollupsMatch(s.ctx, db)
	var distinct int64
	db.Pool.QueryRow(s.ctx, `SELECT count(DISTINCT source_ref) FROM incidents`).Scan(&distinct)
	s.record("kill -9 of the server mid-intake", fmt.Sprintf("SIGKILL to `tensionmap serve` after %d of %d partner batches of %d were answered, restart, every batch sent again", batches/2, batches, per),
		err == nil && got == int64(batches*per) && distinct == got && bad == 0 && again[200] == batches && statuses[500] == 0,
		"statuses before the kill %v; %d stored at the kill; after resending (statuses %v) %d stored, %d distinct (want %d), %d roll-up keys differ%s",
		statuses, atKill, again, got, distinct, batches*per, bad, errNote(err))
}

// loadDemo fills a database with the demo file and creates the callers: a user of
// each role (password "a long enough password for <role>") and a partner token.
func (s *suite) loadDemo(name string) (string, *postgis.DB, string) {
	u, db := s.database(name)
	s.run(u, "", "ingest", s.files.Incidents, "--allow-rejects", "--progress", "none")
	for _, role := range []string{"police", "council", "strategic", "admin"} {
		s.run(u, "a long enough password for "+role+"\n", "users", "add", role+"1", "--role", role, "--password-stdin")
	}
	token := strings.TrimSpace(s.run(u, "", "tokens", "create", "--role", "partner", "--source", "third_party", "--name", "suite"))
	return u, db, token
}

// restartUnderLoad stops and starts PostgreSQL while clients read: the server must
// answer 503 (never 500 or a dropped connection) while it is down and recover by itself.
func (s *suite) restartUnderLoad() {
	u, _, _ := s.loadDemo("restart")
	srv := s.serve(u)
	defer srv.stop()
	police, _, err := srv.signIn("police1", "a long enough password for police")
	if err != nil {
		s.t.Fatal(err)
	}
	var mu sync.Mutex
	counts := map[string]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	paths := []string{"/api/v1/areas?level=ward", "/api/v1/cells?res=8", "/readyz", "/api/v1/alerts"}
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 100000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				st, err := srv.status(police, "GET", paths[(i+n)%len(paths)], nil)
				key := strconv.Itoa(st)
				if err != nil {
					key = "error"
				}
				mu.Lock()
				counts[key]++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(3 * time.Second)
	stopErr := localpg.Stop(s.ctx, s.pg)
	time.Sleep(5 * time.Second)
	startErr := s.restartPostgres()
	back := time.Now()
	recovered := time.Duration(-1)
	for time.Since(back) < 90*time.Second {
		if st, _ := srv.status(police, "GET", "/api/v1/areas?level=ward", nil); st == 200 {
			recovered = time.Since(back)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	s.record("PostgreSQL restart under load", "4 clients reading areas, cells, alerts and /readyz; PostgreSQL stopped for 5 s, then started",
		stopErr == nil && startErr == nil && counts["500"] == 0 && counts["error"] == 0 && counts["503"] > 0 && recovered >= 0,
		"statuses %v; answering 200 again %s after PostgreSQL was back", counts, recovered.Round(100*time.Millisecond))
}

// soakMixed runs mixed traffic for the soak's length and samples the server's RSS.
func (s *suite) soakMixed() {
	u, _, token := s.loadDemo("soak")
	srv := s.serve(u)
	defer srv.stop()
	west, south, east, north := s.demoAreasBound()
	var tiles []string
	for z := 10; z <= 14; z++ {
		for _, t := range bench.TilesOver(orb.Bound{Min: orb.Point{west, south}, Max: orb.Point{east, north}}, z) {
			tiles = append(tiles, fmt.Sprintf("/tiles/hotspots/%d/%d/%d.mvt", t.Z, t.X, t.Y))
		}
	}
	reads := []string{"/api/v1/areas?level=ward", "/api/v1/areas?level=lsoa", "/api/v1/cells?res=8", "/api/v1/alerts",
		"/api/v1/hotspots", "/api/v1/me", "/api/v1/areas?level=ward&from=2020-01-01", "/map", "/"}
	var mu sync.Mutex
	statuses := map[string]map[int]int{}
	count := func(kind string, st int, err error) {
		if err != nil {
			st = 0
		}
		mu.Lock()
		defer mu.Unlock()
		if statuses[kind] == nil {
			statuses[kind] = map[int]int{}
		}
		statuses[kind][st]++
	}
	// Warm-up, not measured: each role's client asks for every tile and read once, so
	// that the caches fill before memory is sampled.
	warm := time.Now()
	for _, role := range []string{"police", "council", "strategic", "admin"} {
		cl, _, err := srv.signIn(role+"1", "a long enough password for "+role)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, p := range append(slices.Clone(tiles), reads...) {
			srv.status(cl, "GET", p, nil, "Accept-Encoding", "gzip")
		}
	}
	warmedIn := time.Since(warm)
	deadline := time.Now().Add(s.soak)
	var wg sync.WaitGroup
	client := func(kind string, pause time.Duration, do func(n int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 10_000_000 && time.Now().Before(deadline); n++ {
				do(n)
				time.Sleep(pause)
			}
		}()
	}
	for c := range 2 {
		client("sign-in", 200*time.Millisecond, func(n int) {
			role := []string{"police", "council", "strategic", "admin"}[(n+c)%4]
			_, st, err := srv.signIn(role+"1", "a long enough password for "+role)
			count("sign-in", st, err)
		})
	}
	for c := range 4 {
		role := []string{"police", "council", "strategic", "admin"}[c]
		cl, _, err := srv.signIn(role+"1", "a long enough password for "+role)
		if err != nil {
			s.t.Fatal(err)
		}
		client("tiles", 20*time.Millisecond, func(n int) {
			st, err := srv.status(cl, "GET", tiles[(n*7+c*131)%len(tiles)], nil, "Accept-Encoding", "gzip")
			count("tiles", st, err)
		})
		client("reads", 50*time.Millisecond, func(n int) {
			st, err := srv.status(cl, "GET", reads[(n+c)%len(reads)], nil)
			count("reads", st, err)
		})
	}
	client("intake", 200*time.Millisecond, func(n int) {
		st, err := srv.intake(token, s.partnerBatch("SOAK", n, 50))
		count("intake", st, err)
	})
	var rss []int64
	for time.Now().Before(deadline) {
		rss = append(rss, srv.rss())
		time.Sleep(time.Second)
	}
	wg.Wait()
	fives, total := 0, 0
	for _, m := range statuses {
		for st, n := range m {
			total += n
			if st >= 500 || st == 0 {
				fives += n
			}
		}
	}
	q := len(rss) / 4
	second, last := median(rss[q:2*q]), median(rss[3*q:])
	flat := q > 0 && float64(last) <= 1.2*float64(second)
	s.record("soak of mixed traffic", fmt.Sprintf("%s after a warm-up over every tile and read (%s, %d tiles z10-z14): 2 clients signing in, 4 panning hotspot tiles, 4 reading the API and pages, 1 partner writing batches of 50", s.soak, warmedIn.Round(time.Second), len(tiles)),
		fives == 0 && flat && total > 0,
		"%d requests, %d answered 5xx or dropped; by kind %v; server RSS median %s in the second quarter, %s in the last (flat: within 20%%), peak %s",
		total, fives, statuses, mib(second), mib(last), mib(slicesMax(rss)))
}

func slicesMax(xs []int64) int64 {
	var m int64
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// slowClients holds slow-body partner uploads and slow-header connections open
// while a police user keeps reading.
func (s *suite) slowClients() {
	u, _, token := s.loadDemo("slow")
	srv := s.serve(u)
	defer srv.stop()
	police, _, err := srv.signIn("police1", "a long enough password for police")
	if err != nil {
		s.t.Fatal(err)
	}
	hold := 60 * time.Second
	if s.short {
		hold = 20 * time.Second
	}
	addr := strings.TrimPrefix(srv.base, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	const slow = 25
	for i := 0; i < slow; i++ {
		for _, head := range []string{
			"POST /api/v1/incidents HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000000\r\n\r\n",
			"GET /api/v1/me HTTP/1.1\r\nHost: " + addr + "\r\n",
		} {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				continue
			}
			c.Write([]byte(head))
			conns = append(conns, c)
		}
	}
	deadline := time.Now().Add(hold)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a byte a second on every slow connection
		defer wg.Done()
		for time.Now().Before(deadline) {
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				c.Write([]byte("{"))
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	reader := &http.Client{Jar: police.Jar, Timeout: 10 * time.Second}
	ok, failed := 0, map[string]int{}
	var worst time.Duration
	for time.Now().Before(deadline) {
		start := time.Now()
		st, err := srv.status(reader, "GET", "/api/v1/areas?level=ward", nil)
		worst = max(worst, time.Since(start))
		switch {
		case err != nil:
			failed["timeout or error"]++
		case st == 200:
			ok++
		default:
			failed[strconv.Itoa(st)]++
		}
		time.Sleep(250 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	s.record("slow-body and slow-header clients", fmt.Sprintf("%d partner uploads sending a byte a second and %d connections sending headers a byte a second, for %s, while a police user reads /api/v1/areas every 250 ms (10 s client timeout)", slow, slow, hold),
		len(failed) == 0 && ok > 0,
		"%d reads answered 200, failures %v, slowest read %s", ok, failed, worst.Round(time.Millisecond))
}

// goTests runs go test on the web package for a pattern and records the outcome; want
// names a test that must have run.
func (s *suite) goTests(attack, done, pattern, env, want string) {
	root, err := filepath.Abs("../..")
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.CommandContext(s.ctx, "go", "test", "-count=1", "-v", "-run", pattern, "./web/")
	cmd.Dir = root
	cmd.Env = os.Environ()
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	var ran []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "--- PASS: "); ok && !strings.Contains(name, "/") {
			ran = append(ran, strings.Fields(name)[0])
		}
	}
	failed := strings.Count(string(out), "--- FAIL")
	hasWant := strings.Contains(string(out), "=== RUN   "+want)
	note := ""
	if !hasWant {
		note = "; " + want + " is not in this build"
	}
	s.record(attack, done+fmt.Sprintf(" (`go test -run '%s' ./web/`)", pattern), err == nil && hasWant,
		"%d tests passed (%s), %d failures, in %s%s", len(ran), strings.Join(ran, ", "), failed, time.Since(start).Round(time.Second), note)
}
