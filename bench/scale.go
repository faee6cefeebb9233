package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tension/engine"
)

// ScaleOptions are the settings of Scale.
type ScaleOptions struct {
	Rows    int           // demo reports to generate and load
	Years   int           // years they span, ending yesterday
	Clients int           // clients of the many-client throughput and the load run
	Slice   time.Duration // each side's time in a throughput comparison, in alternating turns (two of Slice each, or four of half of it for the one cached tile)
	Load    time.Duration // length of the load run
	Runs    int           // passes over the tile set in the uncached one-at-a-time comparison
	APIRuns int           // calls of each /api/v1/areas path
	// Serve is the tensionmap binary run as the server of the load run and the API
	// calls, whose peak memory is reported; Listen its loopback address ("" picks a
	// free port).
	Serve  string
	Listen string
	// Doc, when set, is a Markdown file whose generated section (after
	// DocMarker) is replaced with the table; Command is the command line shown there.
	Doc     string
	Command string
}

// DocMarker starts the generated section of the performance document.
const DocMarker = "<!-- tensionmap bench scale writes below this line; edit above it -->"

// scaleRow is one figure of the scale table.
type scaleRow struct{ figure, measured, baseline, ratio, goal string }

// Scale loads Rows demo reports over Years into a scratch database through the
// real ingest and measures everything at once: the ingest beside plain COPY, the
// engine per detector, hotspot tiles uncached and cached beside ST_AsMVT over the
// same hexagons at one client and many, the first tile after new data, the load run,
// /api/v1/areas, the server's peak memory and the database's size. It prints one
// table, each figure beside its goal, and the time each stage took.
func Scale(ctx context.Context, env *Env, o ScaleOptions) error {
	type stage struct {
		name string
		took time.Duration
	}
	var stages []stage
	began := time.Now()
	mark := func(name string, start time.Time) {
		stages = append(stages, stage{name, time.Since(start)})
		fmt.Fprintf(env.Stderr, "stage done: %s in %s\n", name, time.Since(start).Round(time.Second))
	}
	detail := env.Stderr // the parts' own tables, as the other benchmarks print them
	var rows []scaleRow
	add := func(figure, measured, baseline, ratio, goal string) {
		rows = append(rows, scaleRow{figure, measured, baseline, ratio, goal})
	}

	// 1. Generate the reports into a file, streaming.
	start := time.Now()
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	g, err := synth.New(synth.Options{Seed: 1, Rows: o.Rows, Years: o.Years, End: end})
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "tensionmap-bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(env.Stderr, "generating %d demo reports over %d years…\n", o.Rows, o.Years)
	files, err := synth.WriteDir(tmp, g)
	if err != nil {
		return err
	}
	mark("generate the demo file", start)

	// 2. Ingest through the whole pipeline, then the plain COPY baselines.
	start = time.Now()
	dbURL, drop, err := postgis.ScratchDatabase(ctx, env.DatabaseURL, "tensionmap_bench_scale")
	if err != nil {
		return err
	}
	defer drop()
	db, err := postgis.Open(ctx, dbURL, postgis.Options{MaxConns: int32(max(8, o.Clients)), StatementTimeout: 5 * time.Minute})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	areas := g.GeoAreas()
	if _, err := db.ImportAreas(ctx, areas); err != nil {
		return err
	}
	if _, err := db.SetPopulation(ctx, g.Populations()); err != nil {
		return err
	}
	it, err := ingestRuns(ctx, env, db, files.Incidents, o.Rows, 1, false, "")
	if err != nil {
		return err
	}
	if _, err := db.Pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	mark("ingest, COPY baselines, VACUUM ANALYZE", start)
	rps := func(d time.Duration) float64 { return float64(o.Rows) / d.Seconds() }
	add("ingest, whole pipeline (file to incidents and roll-ups)", fmt.Sprintf("%.0f rows/s (%.0f s)", rps(it.pipeline), it.pipeline.Seconds()),
		fmt.Sprintf("plain COPY into incidents with its indexes: %.0f rows/s", rps(it.indexed)),
		fmt.Sprintf("%.2f", it.indexed.Seconds()/it.pipeline.Seconds()), "at least 0.50")
	add("ingest, whole pipeline beside an unindexed table", fmt.Sprintf("%.0f rows/s", rps(it.pipeline)),
		fmt.Sprintf("plain COPY into an unindexed table: %.0f rows/s", rps(it.unindexed)),
		fmt.Sprintf("%.2f", it.unindexed.Seconds()/it.pipeline.Seconds()), "for the record")
	add("roll-up rows per report", fmt.Sprintf("%.2f", rollupsPerReport(it.rollups, o.Rows)), "", "", "rows that grow with places x days with reports, not with reports (point 1)")

	// 3. The engine: one whole run, as configured, each detector's time.
	start = time.Now()
	fmt.Fprintf(env.Stderr, "running the tension engine (scan replicates %d)…\n", env.Engine.Options.Scan.Replicates)
	er, _, err := engine.Run(ctx, db, env.Engine, end, "bench")
	if err != nil {
		return err
	}
	er.Print(detail)
	mark("engine run", start)
	add("engine, whole run", fmt.Sprintf("%.1f s", er.Took.Seconds()), "", "", "at 1M reports within 20 s")
	for _, k := range tension.Detectors() {
		if v, ok := er.Report.Seconds[k]; ok {
			add("  engine, "+strings.ReplaceAll(k, "_", " "), fmt.Sprintf("%.1f s", v), "", "", "")
		}
	}

	// The database's size after the load and the engine run, before the tile
	// benchmarks store their baseline's hexagons.
	size, tables, pgVersion, err := db.BenchSizes(ctx, 5)
	if err != nil {
		return err
	}
	add("database size (pg_database_size)", humanBytes(size), "", "", "none set")
	for _, t := range tables {
		add("  table "+t.Name+" (with indexes)", humanBytes(t.Bytes), "", "", "")
	}

	// 4. Tiles in this process: uncached beside ST_AsMVT, the first tile after new
	// data, then requests per second at one client and many.
	start = time.Now()
	r, err := newTileRig(ctx, env, db, areas, end, o.Years, o.Clients)
	if err != nil {
		return err
	}
	ups, err := r.uncached(ctx, detail, o.Runs, true)
	if err != nil {
		return err
	}
	for _, u := range ups {
		slow := ""
		if u.slow > 0 {
			slow = fmt.Sprintf(" (%d answer%s 503 \"still being drawn\", asked again after Retry-After)", u.slow, map[bool]string{true: " was", false: "s were"}[u.slow == 1])
		}
		add(fmt.Sprintf("uncached hotspot tiles, one at a time, %s (z10-z14, %d tiles)", periodShort(u.period.name), len(r.tileSet)),
			fmt.Sprintf("%.1f ms/tile%s", ms(u.totOurs)/float64(len(r.tileSet)), slow), fmt.Sprintf("ST_AsMVT: %.1f ms/tile", ms(u.totPG)/float64(len(r.tileSet))),
			timesX(u.totPG.Seconds()/u.totOurs.Seconds()), "at least 5x")
	}
	for _, u := range ups {
		add(fmt.Sprintf("first tile after new data (a report added in it, running server, its background count of the resolution done), z14, %s", periodShort(u.period.name)), fmt.Sprintf("%.0f ms", ms(u.afterDataHeld)),
			fmt.Sprintf("ST_AsMVT: %.0f ms", ms(u.firstPG)), fmt.Sprintf("%.1fx the baseline's time", u.afterDataHeld.Seconds()/u.firstPG.Seconds()), "within 2x")
	}
	for _, u := range ups {
		add(fmt.Sprintf("first tile after new data (a report added in it just after the server's first tile), z14, %s", periodShort(u.period.name)), fmt.Sprintf("%.0f ms", ms(u.afterData)),
			fmt.Sprintf("ST_AsMVT: %.0f ms", ms(u.firstPG)), fmt.Sprintf("%.1fx the baseline's time", u.afterData.Seconds()/u.firstPG.Seconds()), "for the record")
	}
	for _, u := range ups {
		add(fmt.Sprintf("first tile of a new server, z14, %s", periodShort(u.period.name)), fmt.Sprintf("%.0f ms", ms(u.firstOurs)),
			fmt.Sprintf("ST_AsMVT: %.0f ms", ms(u.firstPG)), fmt.Sprintf("%.1fx the baseline's time", u.firstOurs.Seconds()/u.firstPG.Seconds()), "for the record")
	}
	mark("uncached tiles and first tiles", start)
	start = time.Now()
	last := r.periods[len(r.periods)-1] // the hexagons stored are this period's
	_, uncachedHTTP := r.newServer(-1, true)
	pg := r.newPostGIS()
	cachedSrv, cachedHTTP := r.newServer(0, true)
	defer uncachedHTTP.Close()
	defer pg.Close()
	defer cachedHTTP.Close()
	for _, t := range r.tileSet { // fill the cache
		// A tile still being drawn is asked again after its Retry-After, as the map does.
		if st, b, _, err := r.getTile(r.oursURL(cachedHTTP.URL, last)(t)); err != nil || st >= 400 {
			return fmt.Errorf("filling the cache: tile %d/%d/%d answered %d (%d bytes): %v", t.Z, t.X, t.Y, st, len(b), err)
		}
	}
	for _, c := range []int{1, o.Clients} {
		fmt.Fprintf(env.Stderr, "tile throughput at %d clients…\n", c)
		ours, base, err := r.throughput(ctx, c, o.Slice, r.oursURL(uncachedHTTP.URL, last), r.pgURL(pg.URL))
		if err != nil {
			return err
		}
		add(fmt.Sprintf("uncached hotspot tiles, %s, %d client%s", periodShort(last.name), c, plural(c)), fmt.Sprintf("%.0f requests/s", ours),
			fmt.Sprintf("ST_AsMVT: %.0f requests/s", base), timesX(ours/base), "at least 5x")
		ours, base, err = r.throughput(ctx, c, o.Slice, r.oursURL(cachedHTTP.URL, last), r.pgURL(pg.URL))
		if err != nil {
			return err
		}
		add(fmt.Sprintf("cached hotspot tiles, %s, %d client%s", periodShort(last.name), c, plural(c)), fmt.Sprintf("%.0f requests/s", ours),
			fmt.Sprintf("ST_AsMVT: %.0f requests/s", base), timesX(ours/base), "")
		cr, err := r.cachedVsFixed(ctx, detail, cachedHTTP.URL, c, o.Slice)
		if err != nil {
			return err
		}
		add(fmt.Sprintf("one cached tile (%d bytes, z%d), %d client%s", cr.bytes, cr.zoom, c, plural(c)), fmt.Sprintf("%.0f requests/s", cr.rpsTile),
			fmt.Sprintf("a handler writing the same bytes: %.0f requests/s", cr.rpsFixed), fmt.Sprintf("%.2f", cr.rpsTile/cr.rpsFixed), "at least 0.7")
	}
	_, held, hits, misses := cachedSrv.TileCacheStats()
	fmt.Fprintf(detail, "tile cache in this process: %d tiles held, %d hits, %d misses\n", held, hits, misses)
	mark("tile throughput", start)

	// 5. The real server as a child process: the load run, the API, its peak memory.
	start = time.Now()
	srv, err := startServe(ctx, env, o, dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	lr, err := r.loadRun(ctx, detail, srv.base, o.Clients, o.Load, nil)
	if err != nil {
		return err
	}
	add(fmt.Sprintf("load run, %d clients panning z10-z14, three layers, %s", o.Clients, o.Load),
		fmt.Sprintf("p50 %.0f ms, p99 %.0f ms, max %.0f ms; %d errors of %d requests", lr.p50, lr.p99, lr.max, lr.errors, lr.requests),
		"", "", "no error, p99 within 50 ms")
	strategic, err := session(ctx, db, access.Strategic)
	if err != nil {
		return err
	}
	api, n, err := apiLatencies(ctx, srv.base, map[access.Role]string{access.Police: r.cookie, access.Strategic: strategic}, env, end, o.Years, o.APIRuns)
	if err != nil {
		return err
	}
	add(fmt.Sprintf("API, GET /api/v1/areas?level=lsoa, 3 periods x 2 filters x 2 roles, %d calls", n),
		fmt.Sprintf("p50 %.0f ms, p99 %.0f ms, max %.0f ms", api[0], api[1], api[2]), "", "", "none set")
	hwm, err := srv.peakRSS()
	if err != nil {
		return err
	}
	add("server peak memory (VmHWM of the serve process)", fmt.Sprintf("%.0f MB", float64(hwm)/1e6), "", "", "none set")
	mark("load run, API, peak memory (serve)", start)

	// The table, and the time each stage took.
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d demo reports over %d years (ending %s), %d areas; %s\n\n", o.Rows, o.Years, end.Format("2 January 2006"), len(areas), machine(pgVersion))
	writeScaleTable(&b, rows)
	fmt.Fprintf(&b, "\nTime each stage took (%s in all):\n\n", time.Since(began).Round(time.Second))
	for _, s := range stages {
		fmt.Fprintf(&b, "- %s: %s\n", s.name, s.took.Round(time.Second))
	}
	if _, err := env.Stdout.Write(b.Bytes()); err != nil {
		return err
	}
	if o.Doc != "" {
		if err := writeDoc(o.Doc, o.Command, b.String()); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "wrote the table into %s\n", o.Doc)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// rollupsPerReport is the rows of the roll-up tables per report stored.
func rollupsPerReport(counts map[string]int64, reports int) float64 {
	var n int64
	for _, t := range postgis.RollupTables {
		if t != "incidents" {
			n += counts[t] // the tables' own rows, not their rows by resolution
		}
	}
	return float64(n) / float64(reports)
}

// writeScaleTable writes the rows as a Markdown table.
func writeScaleTable(w io.Writer, rows []scaleRow) {
	fmt.Fprintln(w, "| figure | measured | baseline, same run | ratio | goal (issue 13) |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.figure, r.measured, r.baseline, r.ratio, r.goal)
	}
}

// machine describes the machine: cores, memory, PostgreSQL and Go.
func machine(pgVersion string) string {
	mem := "memory unknown"
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
					mem = fmt.Sprintf("%.0f GiB memory", float64(kb)/(1<<20))
				}
			}
		}
	}
	return fmt.Sprintf("%d cores, %s, PostgreSQL %s, %s", runtime.NumCPU(), mem, pgVersion, runtime.Version())
}

// writeDoc replaces the generated section of the document at path (everything after
// DocMarker; the marker is added when missing) with the table and how it was made.
func writeDoc(path, command, table string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	head := string(old)
	if i := strings.Index(head, DocMarker); i >= 0 {
		head = head[:i]
	} else if head != "" && !strings.HasSuffix(head, "\n\n") {
		head = strings.TrimRight(head, "\n") + "\n\n"
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(DocMarker + "\n\n")
	fmt.Fprintf(&b, "## Measured on %s\n\n", time.Now().UTC().Format("2 January 2006 at 15:04 UTC"))
	fmt.Fprintf(&b, "`%s`\n\n", command)
	b.WriteString(table)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// child is the serve binary running as a child process.
type child struct {
	cmd    *exec.Cmd
	base   string
	exited chan struct{} // closed when the process has exited
	err    error         // its exit, once exited is closed
}

// startServe runs the serve binary on the scratch database with the engine's
// schedule off, and waits until it answers /readyz.
func startServe(ctx context.Context, env *Env, o ScaleOptions, dbURL string) (*child, error) {
	bin := o.Serve
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	addr := o.Listen
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addr = l.Addr().String()
		l.Close()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "TENSIONMAP_DATABASE_URL="+dbURL, "TENSIONMAP_LISTEN="+net.JoinHostPort(host, port),
		"TENSIONMAP_ENGINE_AT=off", "TENSIONMAP_ENGINE_AFTER_INGEST=false", "TENSIONMAP_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = env.Stderr, env.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, base: "http://" + net.JoinHostPort(host, port), exited: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	fmt.Fprintf(env.Stderr, "started %s serve (pid %d) on %s\n", bin, cmd.Process.Pid, c.base)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/readyz", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return c, nil
			}
		}
		select {
		case <-c.exited:
			return nil, fmt.Errorf("serve exited before it was ready: %v", c.err)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, errors.New("serve did not answer /readyz within 3 minutes")
		}
	}
}

// peakRSS is the child's resident memory high-water mark, VmHWM, in bytes.
func (c *child) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

// stop ends the child and waits for it.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// apiLatencies calls /api/v1/areas?level=lsoa on the server at base over 28 days, a
// year and all the years, with no filter and with strands, kind and source, as a
// police and a strategic user (cookies), runs times each, and returns the p50, p99 and maximum
// in milliseconds and the calls made.
func apiLatencies(ctx context.Context, base string, cookies map[access.Role]string, env *Env, end time.Time, years, runs int) ([3]float64, int, error) {
	var out [3]float64
	client := &http.Client{Timeout: 2 * time.Minute}
	var lat []time.Duration
	for _, role := range []access.Role{access.Police, access.Strategic} {
		cookie := cookies[role]
		for _, p := range apiPeriods(end, years) {
			for _, filter := range []bool{false, true} {
				f := p.f
				if filter {
					flt := apiFilter(env)
					f.Strands, f.Kinds, f.Sources = flt.Strands, flt.Kinds, flt.Sources
				}
				for range runs {
					req, err := http.NewRequestWithContext(ctx, "GET", base+areasQuery(f), nil)
					if err != nil {
						return out, 0, err
					}
					req.AddCookie(&http.Cookie{Name: "tm_session", Value: cookie})
					t := time.Now()
					res, err := client.Do(req)
					if err != nil {
						return out, 0, err
					}
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					lat = append(lat, time.Since(t))
					if err != nil {
						return out, 0, err
					}
					if res.StatusCode != 200 {
						return out, 0, fmt.Errorf("%s as %s: status %d", areasQuery(f), role, res.StatusCode)
					}
				}
			}
		}
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return ms(lat[min(len(lat)-1, int(q*float64(len(lat))))]) }
	out = [3]float64{at(0.5), at(0.99), ms(lat[len(lat)-1])}
	return out, len(lat), nil
}

// humanBytes is a size in MB or GB.
func humanBytes(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	}
	return fmt.Sprintf("%.0f MB", float64(n)/1e6)
}

// timesX is a ratio as "2.3x", with three decimals below 0.1 so that a small one
// still reads.
func timesX(x float64) string {
	if x < 0.1 {
		return fmt.Sprintf("%.3fx", x)
	}
	return fmt.Sprintf("%.1fx", x)
}
