package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tension/engine"
	"github.com/tensionmap/tensionmap/tiles"
	"github.com/tensionmap/tensionmap/web"
)

// runBenchTiles measures the tiles on the demo data: uncached hotspot tiles beside
// PostGIS ST_AsMVT over the same hexagons stored as polygons, a cached tile beside a
// handler that writes a fixed byte slice, and a load run of clients panning the map.
// Every comparison runs both sides in this process over loopback HTTP, alternating.
func runBenchTiles(ctx context.Context, env *Env, args []string) error {
	var rows, clients, runs int
	var duration time.Duration
	fs := newFlagSet(env, "bench tiles", "bench tiles [--rows N] [--clients N] [--duration D] [--runs N]")
	fs.IntVar(&rows, "rows", 1_000_000, "demo incidents to load")
	fs.IntVar(&clients, "clients", 16, "concurrent clients of the throughput and load runs")
	fs.DurationVar(&duration, "duration", 20*time.Second, "length of the load run (the cached-tile comparison takes as long)")
	fs.IntVar(&runs, "runs", 3, "passes over the tile set in the uncached comparison; the best counts")
	var cpuProfile string
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the measurements (not the loading) to this file")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	cfg := env.Config
	if err := cfg.needDatabase(); err != nil {
		return err
	}
	out := env.Stdout

	// The demo town at rows incidents, with the engine's analysis.
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	g, err := synth.New(synth.Options{Seed: 1, Rows: rows, Years: 5, End: end})
	if err != nil {
		return err
	}
	url, drop, err := postgis.ScratchDatabase(ctx, cfg.DatabaseURL, "tensionmap_bench_tiles")
	if err != nil {
		return err
	}
	defer drop()
	db, err := postgis.Open(ctx, url, postgis.Options{MaxConns: int32(max(8, clients)), StatementTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	areas := g.GeoAreas()
	sum, err := loadBenchDemo(ctx, env, db, &cfg, g, areas, true, end, "bench tiles", fmt.Sprintf("%d demo incidents", rows))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "loaded in %s; running the tension engine…\n", sum.Elapsed.Round(time.Millisecond))
	ecfg := cfg
	ecfg.ScanReplicates = 99
	er, _, err := engine.Run(ctx, db, ecfg.engineConfig(), end, "bench")
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "engine run in %s\n", er.Took.Round(time.Millisecond))

	// A police user's session, as the map sends it.
	cookie, err := benchSession(ctx, db)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	newServer := func(cacheBytes int64) (*web.Server, *httptest.Server) {
		s := web.New(web.Options{Version: "bench", Strands: cfg.Strands, Sources: cfg.Sources, Unavailable: postgis.Unavailable,
			TileCacheBytes: cacheBytes}, db, nil, log, nil)
		return s, httptest.NewServer(s)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * clients, DisableCompression: true}, Timeout: time.Minute}
	get := func(url string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Accept-Encoding", "gzip")
		req.AddCookie(&http.Cookie{Name: "tm_session", Value: cookie})
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, b, err
	}

	// The tiles over the town at zooms 10 to 14.
	town, _ := geo.AreasBound(areas)
	byZoom := map[int][]maptile.Tile{}
	var tileSet []maptile.Tile
	for z := 10; z <= 14; z++ {
		for _, t := range tilesOver(town, z) {
			byZoom[z] = append(byZoom[z], t)
			tileSet = append(tileSet, t)
		}
	}
	rs, err := db.Resolutions(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tiles over the demo town: %d incidents, %d tiles at zooms 10 to 14, %d clients, GOMAXPROCS %d\n\n",
		rows, len(tileSet), clients, runtimeProcs())

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	// 1. Uncached hotspot tiles beside PostGIS ST_AsMVT over the same hexagons.
	periods := []struct {
		name  string
		query string
		f     geo.Filter
	}{
		{"last 28 days", "?from=" + end.AddDate(0, 0, -27).Format(time.DateOnly) + "&to=" + end.Format(time.DateOnly), geo.Filter{From: end.AddDate(0, 0, -27), To: end}},
		{"all 5 years", "", geo.Filter{}},
	}
	fmt.Fprintln(out, "1. uncached hotspot tiles: ours (counts held per filter, hexagons built from the cell id, encoded and gzipped")
	fmt.Fprintln(out, "   for every request, through the whole server) beside ST_AsMVT over the same hexagons stored as polygons")
	fmt.Fprintln(out, "   (GiST index, Web Mercator, the same properties), served by a minimal handler as PostGIS tile servers do.")
	fmt.Fprintf(out, "   Each pass requests every tile once, one at a time; best of %d passes, alternating.\n\n", runs)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	var colds []string
	fmt.Fprintln(tw, "period\tzoom\tres\ttiles\tfeatures ours\tfeatures PostGIS\tours ms/tile\tPostGIS ms/tile\tratio\t")
	for _, p := range periods {
		if err := benchHexagonTable(ctx, db, areas, rs, p.f); err != nil {
			return err
		}
		_, ours := newServer(-1)
		pg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			z, _ := strconv.Atoi(q.Get("z"))
			x, _ := strconv.Atoi(q.Get("x"))
			y, _ := strconv.Atoi(q.Get("y"))
			res, _ := strconv.Atoi(q.Get("res"))
			b, err := db.BenchHexagonTile(r.Context(), z, x, y, res)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			if len(b) == 0 {
				w.WriteHeader(204)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
			w.Write(b)
		}))
		oursURL := func(t maptile.Tile) string {
			return fmt.Sprintf("%s/tiles/hotspots/%d/%d/%d.mvt%s", ours.URL, t.Z, t.X, t.Y, p.query)
		}
		pgURL := func(t maptile.Tile) string {
			return fmt.Sprintf("%s/?z=%d&x=%d&y=%d&res=%d", pg.URL, t.Z, t.X, t.Y, tiles.ResForZoom(int(t.Z), rs))
		}
		// The first request at each resolution computes the filter's counts: timed
		// apart, as what a tile costs after new data arrive.
		cold := map[int]time.Duration{}
		for z := 10; z <= 14; z++ {
			start := time.Now()
			if st, b, err := get(oursURL(byZoom[z][0])); err != nil || st >= 400 {
				return fmt.Errorf("ours %v: %d %v %s", byZoom[z][0], st, err, b)
			}
			cold[z] = time.Since(start)
		}
		feats := func(url func(maptile.Tile) string, gz bool) (map[int]int, error) {
			n := map[int]int{}
			for _, t := range tileSet {
				st, b, err := get(url(t))
				if err != nil || st >= 400 {
					return nil, fmt.Errorf("%s: %d %v %s", url(t), st, err, b)
				}
				k, err := countFeatures(b, gz)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", url(t), err)
				}
				n[int(t.Z)] += k
			}
			return n, nil
		}
		nOurs, err := feats(oursURL, true)
		if err != nil {
			return err
		}
		nPG, err := feats(pgURL, false)
		if err != nil {
			return err
		}
		bestOurs, bestPG := map[int]time.Duration{}, map[int]time.Duration{}
		for run := 0; run < runs; run++ {
			for _, side := range []struct {
				url  func(maptile.Tile) string
				best map[int]time.Duration
			}{{oursURL, bestOurs}, {pgURL, bestPG}} {
				took := map[int]time.Duration{}
				for _, t := range tileSet {
					start := time.Now()
					if st, b, err := get(side.url(t)); err != nil || st >= 400 {
						return fmt.Errorf("%s: %d %v %s", side.url(t), st, err, b)
					}
					took[int(t.Z)] += time.Since(start)
				}
				for z, d := range took {
					if b, ok := side.best[z]; !ok || d < b {
						side.best[z] = d
					}
				}
			}
		}
		var totOurs, totPG time.Duration
		for z := 10; z <= 14; z++ {
			n := len(byZoom[z])
			totOurs += bestOurs[z]
			totPG += bestPG[z]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.1fx\t\n", p.name, z, tiles.ResForZoom(z, rs), n, nOurs[z], nPG[z],
				ms(bestOurs[z])/float64(n), ms(bestPG[z])/float64(n), bestPG[z].Seconds()/bestOurs[z].Seconds())
		}
		fmt.Fprintf(tw, "%s\tall\t\t%d\t\t\t%.2f\t%.2f\t%.1fx\t\n", p.name, len(tileSet), ms(totOurs)/float64(len(tileSet)),
			ms(totPG)/float64(len(tileSet)), totPG.Seconds()/totOurs.Seconds())
		coldText := p.name + ", the first tile of each zoom after new data (counting the whole resolution):"
		for z := 10; z <= 14; z++ {
			coldText += fmt.Sprintf(" z%d %.0f ms", z, ms(cold[z]))
		}
		colds = append(colds, coldText)
		ours.Close()
		pg.Close()
	}
	tw.Flush()
	fmt.Fprintln(out)
	for _, c := range colds {
		fmt.Fprintln(out, "   "+c)
	}
	fmt.Fprintln(out, "\n   budget: ours faster (ratio = PostGIS time / ours, above 1 means ours is faster)")

	// 2. A cached tile beside a handler that writes a fixed byte slice.
	cachedSrv, cached := newServer(0)
	defer cached.Close()
	centre := maptile.At(town.Center(), 13)
	tileURL := fmt.Sprintf("%s/tiles/hotspots/%d/%d/%d.mvt%s", cached.URL, centre.Z, centre.X, centre.Y, periods[0].query)
	st, body, err := get(tileURL)
	if err != nil || st != 200 {
		return fmt.Errorf("cached tile: %d %v", st, err)
	}
	fixed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer fixed.Close()
	fixedURL := fixed.URL + "/tile.mvt"
	slice := duration / 4
	var rpsTile, rpsFixed float64
	for i := 0; i < 2; i++ {
		n, _, err := hammer(ctx, clients, slice, func() (int, error) { st, _, err := get(fixedURL); return st, err })
		if err != nil {
			return err
		}
		rpsFixed = max(rpsFixed, float64(n)/slice.Seconds())
		n, _, err = hammer(ctx, clients, slice, func() (int, error) { st, _, err := get(tileURL); return st, err })
		if err != nil {
			return err
		}
		rpsTile = max(rpsTile, float64(n)/slice.Seconds())
	}
	fmt.Fprintf(out, "\n2. a cached %d-byte hotspot tile (z%d) through the whole server (session, role check, cache, ETag)\n", len(body), centre.Z)
	fmt.Fprintf(out, "   beside a bare handler writing the same bytes; %d clients, %s each, best of 2 alternating:\n\n", clients, slice)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "handler\trequests/s\tµs/request\t")
	fmt.Fprintf(tw, "fixed byte slice\t%.0f\t%.0f\t\n", rpsFixed, 1e6/rpsFixed*float64(clients))
	fmt.Fprintf(tw, "cached tile\t%.0f\t%.0f\t\n", rpsTile, 1e6/rpsTile*float64(clients))
	tw.Flush()
	fmt.Fprintf(out, "\n   ratio fixed / cached: %.2f (budget: within 2x)\n", rpsFixed/rpsTile)

	// 3. The load run: clients panning and zooming across z10 to z14.
	b0, t0, h0, m0 := cachedSrv.TileCacheStats()
	_ = b0
	_ = t0
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	statuses := map[int]int{}
	n, elapsed, err := hammerClients(ctx, clients, duration, func(id int) func() (int, error) {
		rng := rand.New(rand.NewPCG(uint64(id), 7))
		// Each client keeps a filter of its own: a period and, for two in three, a strand.
		p := periods[rng.IntN(len(periods))]
		if st := []string{"", "race", "religion"}[rng.IntN(3)]; st != "" {
			if p.query == "" {
				p.query = "?strand=" + st
			} else {
				p.query += "&strand=" + st
			}
		}
		z := 10 + rng.IntN(5)
		c := orb.Point{town.Min[0] + rng.Float64()*(town.Max[0]-town.Min[0]), town.Min[1] + rng.Float64()*(town.Max[1]-town.Min[1])}
		var queue []string
		return func() (int, error) {
			if len(queue) == 0 {
				// Move: pan by about a tile, or zoom in or out, staying over the town.
				switch rng.IntN(4) {
				case 0:
					z = min(14, z+1)
				case 1:
					z = max(10, z-1)
				default:
					w := 360 / math.Pow(2, float64(z))
					c[0] += (rng.Float64()*2 - 1) * w
					c[1] += (rng.Float64()*2 - 1) * w * 0.6
					c[0] = min(max(c[0], town.Min[0]), town.Max[0])
					c[1] = min(max(c[1], town.Min[1]), town.Max[1])
				}
				// A 1280x800 map is about five tiles by four; each move asks for every
				// layer the map shows.
				ct := maptile.At(c, maptile.Zoom(z))
				for dx := -2; dx <= 2; dx++ {
					for dy := -2; dy <= 1; dy++ {
						t := maptile.New(uint32(int(ct.X)+dx), uint32(int(ct.Y)+dy), ct.Z)
						for _, layer := range []string{"hotspots", "areas", "alerts"} {
							q := p.query
							if layer == "alerts" {
								q = ""
							}
							queue = append(queue, fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt%s", cached.URL, layer, t.Z, t.X, t.Y, q))
						}
					}
				}
			}
			u := queue[0]
			queue = queue[1:]
			start := time.Now()
			st, _, err := get(u)
			d := time.Since(start)
			mu.Lock()
			lat = append(lat, d)
			statuses[st]++
			mu.Unlock()
			if err != nil || (st != 200 && st != 204 && st != 304) {
				errs.Add(1)
			}
			return st, nil
		}
	})
	if err != nil {
		return err
	}
	_, tiles1, h1, m1 := cachedSrv.TileCacheStats()
	slices.Sort(lat)
	pct := func(q float64) float64 { return ms(lat[min(len(lat)-1, int(q*float64(len(lat))))]) }
	fmt.Fprintf(out, "\n3. load run: %d clients panning and zooming over the town at z10 to z14, each move asking for the\n", clients)
	fmt.Fprintf(out, "   5x4 tiles of a 1280x800 map in three layers (hotspots, areas, alerts), each client with its own filter\n")
	fmt.Fprintf(out, "   (28 days or 5 years; all strands, race or religion), over %s:\n\n", elapsed.Round(time.Millisecond))
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "requests\trequests/s\tp50 ms\tp99 ms\tmax ms\terrors\tcache hits\tcache misses\ttiles held\t")
	fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.2f\t%.1f\t%d\t%d\t%d\t%d\t\n", n, float64(n)/elapsed.Seconds(), pct(0.5), pct(0.99), ms(lat[len(lat)-1]),
		errs.Load(), h1-h0, m1-m0, tiles1)
	tw.Flush()
	fmt.Fprintf(out, "\n   statuses: %v (budget: no errors)\n", statuses)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// tilesOver lists the tiles at zoom z that meet a bound.
func tilesOver(b orb.Bound, z int) []maptile.Tile {
	lo := maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(z))
	hi := maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(z))
	var out []maptile.Tile
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			out = append(out, maptile.New(x, y, maptile.Zoom(z)))
		}
	}
	return out
}

// countFeatures counts the features of a tile's body.
func countFeatures(b []byte, gz bool) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return 0, err
		}
		if b, err = io.ReadAll(zr); err != nil {
			return 0, err
		}
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range ls {
		n += len(l.Features)
	}
	return n, nil
}

// benchHexagonTable stores, for PostGIS to serve, the hexagons our hotspot tiles
// draw for a filter: every cell at each resolution with its counts, rate, Gi* z
// and emerging category, and its polygon.
func benchHexagonTable(ctx context.Context, db *postgis.DB, areas []geo.Area, rs []int, f geo.Filter) error {
	var hexes []postgis.BenchHexagon
	_, _, _, hs, err := db.Hotspots(ctx, 8)
	if err != nil {
		return err
	}
	type gi struct {
		z    float64
		conf int
		cat  string
	}
	byCell := map[uint64]gi{}
	for _, h := range hs {
		byCell[h.Cell] = gi{h.Z, h.Confidence, string(h.Category)}
	}
	// The tension level of open alerts over each cell, as the tiles carry it.
	alerts, err := db.Alerts(ctx, tension.AlertFilter{Status: []string{tension.StatusNew, tension.StatusAcknowledged, tension.StatusAssessmentOpened},
		Since: time.Now().AddDate(0, 0, -90), Limit: 1000})
	if err != nil {
		return err
	}
	byCode := map[string]geo.Area{}
	for _, a := range areas {
		byCode[a.Code] = a
	}
	tensionAt := func(res int) map[uint64]string {
		out := map[uint64]string{}
		mark := func(c uint64, level string) {
			if prev, ok := out[c]; !ok || tension.DefaultScale.Rank(level) > tension.DefaultScale.Rank(prev) {
				out[c] = level
			}
		}
		for _, a := range alerts {
			for _, c := range a.Cells {
				for _, x := range geo.CellsAt(c, res) {
					mark(x, a.TensionLevel)
				}
			}
			if len(a.Cells) == 0 {
				for _, code := range a.Areas {
					for _, x := range geo.PolygonCells(byCode[code].Geometry, res) {
						mark(x, a.TensionLevel)
					}
				}
			}
		}
		return out
	}
	seen := map[int]bool{}
	for z := 10; z <= 14; z++ {
		res := tiles.ResForZoom(z, rs)
		if seen[res] {
			continue
		}
		seen[res] = true
		counts, err := db.CellCounts(ctx, res, f)
		if err != nil {
			return err
		}
		pop := geo.CellPopulation(areas, res)
		tensions := tensionAt(res)
		for _, c := range counts {
			n := c.Count
			h := postgis.BenchHexagon{Cell: c.Cell, Res: res, Count: &n}
			if p := pop[c.Cell]; p >= 50 {
				r := math.Round(float64(c.Count)/math.Round(p)*1000*100) / 100
				h.Rate = &r
			}
			if g, ok := byCell[c.Cell]; ok {
				z, conf, cat := math.Round(g.z*1000)/1000, g.conf, g.cat
				h.Z, h.Confidence, h.Category = &z, &conf, &cat
			}
			if level, ok := tensions[c.Cell]; ok {
				h.Tension = &level
			}
			for _, p := range geo.CellPolygon(c.Cell)[0] {
				h.Ring = append(h.Ring, [2]float64{p[0], p[1]})
			}
			hexes = append(hexes, h)
		}
	}
	return db.CreateBenchHexagons(ctx, hexes)
}

// benchSession stores a police user and a session for it, and returns the cookie value.
func benchSession(ctx context.Context, db *postgis.DB) (string, error) {
	return benchSessionAs(ctx, db, access.Police)
}

// benchSessionAs is benchSession for a user of the given role.
func benchSessionAs(ctx context.Context, db *postgis.DB, role access.Role) (string, error) {
	hash, err := access.HashPassword("bench password, never used to sign in")
	if err != nil {
		return "", err
	}
	u := &access.User{Username: "bench-" + string(role), Name: "Benchmark", Role: role, PasswordHash: hash}
	if err := db.CreateUser(ctx, u); err != nil {
		return "", err
	}
	value, h := access.NewSessionID()
	now := time.Now()
	if err := db.CreateSession(ctx, &access.Session{Hash: h, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour), LastSeen: now}); err != nil {
		return "", err
	}
	return value, nil
}

// hammer runs clients goroutines calling do for d and returns the calls completed.
func hammer(ctx context.Context, clients int, d time.Duration, do func() (int, error)) (int64, time.Duration, error) {
	return hammerClients(ctx, clients, d, func(int) func() (int, error) { return do })
}

// hammerClients runs a client per goroutine, each its own request function, for d.
func hammerClients(ctx context.Context, clients int, d time.Duration, newClient func(id int) func() (int, error)) (int64, time.Duration, error) {
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		do := newClient(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := do(); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), time.Since(start), firstErr
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// loadBenchDemo imports areas (with the generator's populations when populations is
// set) and loads the generated town's incidents through the real ingest, as the
// benchmarks need it; label names the load in the ingest runs.
func loadBenchDemo(ctx context.Context, env *Env, db *postgis.DB, cfg *Config, g *synth.Generator, areas []geo.Area, populations bool, end time.Time, label, what string) (geo.Summary, error) {
	if _, err := db.ImportAreas(ctx, areas); err != nil {
		return geo.Summary{}, err
	}
	if populations {
		if _, err := db.SetPopulation(ctx, g.Populations()); err != nil {
			return geo.Summary{}, err
		}
	}
	key := cfg.key
	if len(key) == 0 {
		key = []byte("benchmark key, not for real data, 32+ bytes")
	}
	v, err := geo.NewValidator(geo.ValidatorOptions{Strands: cfg.Strands, Sources: cfg.Sources, Key: key, Location: cfg.location,
		Now: func() time.Time { return end.Add(36 * time.Hour) }})
	if err != nil {
		return geo.Summary{}, err
	}
	ing, err := newIngester(ctx, db, cfg)
	if err != nil {
		return geo.Summary{}, err
	}
	fmt.Fprintf(env.Stderr, "loading %s…\n", what)
	return ing.run(ctx, "bench", "", label, g.Reader(), v, 0, nil, nil)
}
