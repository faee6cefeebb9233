package bench

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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/geo/synth"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tension/engine"
	"github.com/tensionmap/tensionmap/tiles"
	"github.com/tensionmap/tensionmap/web"
)

// TilesOptions are the settings of Tiles.
type TilesOptions struct {
	Rows       int           // demo incidents to load
	Clients    int           // concurrent clients of the throughput and load runs
	Duration   time.Duration // length of the load run (the cached-tile comparison takes as long)
	Runs       int           // passes over the tile set in the uncached comparison; the best counts
	CPUProfile string        // a file for a CPU profile of the measurements (not the loading), or ""
}

// Tiles measures the tiles on the demo data: uncached hotspot tiles beside PostGIS
// ST_AsMVT over the same hexagons stored as polygons, a cached tile beside a handler
// that writes a fixed byte slice, and a load run of clients panning the map. Every
// comparison runs both sides in this process over loopback HTTP, alternating.
func Tiles(ctx context.Context, env *Env, o TilesOptions) error {
	rows, clients, duration, runs := o.Rows, o.Clients, o.Duration, o.Runs
	out := env.Stdout

	// The demo town at rows incidents, with the engine's analysis.
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	g, err := synth.New(synth.Options{Seed: 1, Rows: rows, Years: 5, End: end})
	if err != nil {
		return err
	}
	db, done, err := env.scratch(ctx, "tensionmap_bench_tiles", postgis.Options{MaxConns: int32(max(8, clients)), StatementTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	defer done()
	areas := g.GeoAreas()
	sum, err := loadDemo(ctx, env, db, g, areas, true, end, "bench tiles", fmt.Sprintf("%d demo incidents", rows))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "loaded in %s; running the tension engine…\n", sum.Elapsed.Round(time.Millisecond))
	er, err := tilesEngineRun(ctx, env, db, end)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "engine run in %s\n", er.Took.Round(time.Millisecond))

	r, err := newTileRig(ctx, env, db, areas, end, 5, clients)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tiles over the demo town: %d incidents, %d tiles at zooms 10 to 14, %d clients, GOMAXPROCS %d\n\n",
		rows, len(r.tileSet), clients, runtimeProcs())

	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return err
	}
	defer stopProfile()

	// 1. Uncached hotspot tiles beside PostGIS ST_AsMVT over the same hexagons.
	if _, err := r.uncached(ctx, out, runs, false); err != nil {
		return err
	}
	// 1b. Uncached hotspot tiles at 1 and at clients clients, beside ST_AsMVT.
	if err := r.uncachedThroughput(ctx, out, clients, duration/4); err != nil {
		return err
	}
	// 2. A cached tile beside a handler that writes a fixed byte slice.
	cachedSrv, cached := r.newServer(0, false)
	defer cached.Close()
	if _, err := r.cachedVsFixed(ctx, out, cached.URL, clients, duration/4); err != nil {
		return err
	}
	// 3. The load run: clients panning and zooming across z10 to z14.
	_, err = r.loadRun(ctx, out, cached.URL, clients, duration, cachedSrv.TileCacheStats)
	return err
}

// tilesEngineRun runs the engine once with 99 scan replicates, for the hotspots and
// alerts the tiles draw.
func tilesEngineRun(ctx context.Context, env *Env, db *postgis.DB, end time.Time) (engine.Result, error) {
	ecfg := env.Engine
	ecfg.Options.Scan.Replicates = 99
	er, _, err := engine.Run(ctx, db, ecfg, end, "bench")
	return er, err
}

// period is a filter the tiles are asked for: its query string and its filter.
type period struct {
	name  string
	query string
	f     geo.Filter
}

// tileRig holds what the tile measurements share: the loaded database, the tiles
// over the town, the periods asked for, a police user's session and an HTTP client.
type tileRig struct {
	env     *Env
	db      *postgis.DB
	areas   []geo.Area
	rs      []int
	town    orb.Bound
	byZoom  map[int][]maptile.Tile
	tileSet []maptile.Tile
	periods []period
	cookie  string
	client  *http.Client
	log     *slog.Logger
	ctx     context.Context
	end     time.Time // the last day of the data
	added   int       // the reports firstTile added
}

// newTileRig prepares the tile measurements over a loaded town whose data end on
// end and span years.
func newTileRig(ctx context.Context, env *Env, db *postgis.DB, areas []geo.Area, end time.Time, years, clients int) (*tileRig, error) {
	// A police user's session, as the map sends it.
	cookie, err := session(ctx, db, access.Police)
	if err != nil {
		return nil, err
	}
	r := &tileRig{env: env, db: db, areas: areas, cookie: cookie, ctx: ctx, byZoom: map[int][]maptile.Tile{}, end: end,
		log:    slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * clients, DisableCompression: true}, Timeout: time.Minute},
	}
	// The tiles over the town at zooms 10 to 14.
	r.town, _ = geo.AreasBound(areas)
	for z := 10; z <= 14; z++ {
		for _, t := range TilesOver(r.town, z) {
			r.byZoom[z] = append(r.byZoom[z], t)
			r.tileSet = append(r.tileSet, t)
		}
	}
	if r.rs, err = db.Resolutions(ctx); err != nil {
		return nil, err
	}
	r.periods = []period{
		{"last 28 days", "?from=" + end.AddDate(0, 0, -27).Format(time.DateOnly) + "&to=" + end.Format(time.DateOnly), geo.Filter{From: end.AddDate(0, 0, -27), To: end}},
		{fmt.Sprintf("all %d years", years), "", geo.Filter{}},
	}
	return r, nil
}

// get requests a URL as the police user, asking for gzip.
func (r *tileRig) get(url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(r.ctx, "GET", url, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	req.AddCookie(&http.Cookie{Name: "tm_session", Value: r.cookie})
	res, err := r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// getTile is get for a tile that may be still being drawn: a 503 with Retry-After
// is asked again after the wait it names, up to ten times; slow counts the 503s.
func (r *tileRig) getTile(url string) (st int, body []byte, slow int, err error) {
	for {
		req, err := http.NewRequestWithContext(r.ctx, "GET", url, nil)
		if err != nil {
			return 0, nil, slow, err
		}
		req.Header.Set("Accept-Encoding", "gzip")
		req.AddCookie(&http.Cookie{Name: "tm_session", Value: r.cookie})
		res, err := r.client.Do(req)
		if err != nil {
			return 0, nil, slow, err
		}
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || slow == 10 || err != nil {
			return res.StatusCode, body, slow, err
		}
		slow++
		wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		select {
		case <-r.ctx.Done():
			return 0, nil, slow, r.ctx.Err()
		case <-time.After(time.Duration(max(1, wait)) * time.Second):
		}
	}
}

// newServer starts the service's web server over loopback with a tile cache of
// cacheBytes (0 the default, -1 none). A server that times renders waits for them
// as long as a render may take (measure), where the service's default wait answers
// a slow render with a 503.
func (r *tileRig) newServer(cacheBytes int64, measure bool) (*web.Server, *httptest.Server) {
	var wait time.Duration
	if measure {
		wait = tiles.RenderTimeout
	}
	s := web.New(web.Options{Version: "bench", Strands: r.env.Strands, Sources: r.env.Sources, Unavailable: postgis.Unavailable,
		TileCacheBytes: cacheBytes, TileWait: wait}, r.db, nil, r.log, nil)
	return s, httptest.NewServer(s)
}

// newPostGIS starts the baseline: a minimal handler answering each tile with one
// ST_AsMVT query over the stored hexagons, as PostGIS tile servers do.
func (r *tileRig) newPostGIS() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		z, _ := strconv.Atoi(q.Get("z"))
		x, _ := strconv.Atoi(q.Get("x"))
		y, _ := strconv.Atoi(q.Get("y"))
		res, _ := strconv.Atoi(q.Get("res"))
		b, err := r.db.BenchHexagonTile(req.Context(), z, x, y, res)
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
}

func (r *tileRig) oursURL(base string, p period) func(maptile.Tile) string {
	return func(t maptile.Tile) string {
		return fmt.Sprintf("%s/tiles/hotspots/%d/%d/%d.mvt%s", base, t.Z, t.X, t.Y, p.query)
	}
}

func (r *tileRig) pgURL(base string) func(maptile.Tile) string {
	return func(t maptile.Tile) string {
		return fmt.Sprintf("%s/?z=%d&x=%d&y=%d&res=%d", base, t.Z, t.X, t.Y, tiles.ResForZoom(int(t.Z), r.rs))
	}
}

// uncachedPeriod is what uncached measured for one period.
type uncachedPeriod struct {
	period         period
	bestOurs       map[int]time.Duration // best pass over each zoom's tiles
	bestPG         map[int]time.Duration
	cold           map[int]time.Duration // the first tile of each zoom on a new server, z10 first
	firstOurs      time.Duration         // with first: a z14 tile asked first of a new server
	firstPG        time.Duration         // and the same tile asked first of the PostGIS baseline
	afterData      time.Duration         // and that tile asked again of the same server after a report was added in it
	afterDataHeld  time.Duration         // and again after another, once the server held its resolution's counts
	totOurs, totPG time.Duration
	featsOurs, fPG map[int]int
	tilesAtZoom    map[int]int
	slow           int      // 503s (a render past the wait) asked again after Retry-After
	differ         []string // each feature one side draws and the other does not
}

// uncached compares uncached hotspot tiles with ST_AsMVT over the same hexagons,
// for each period, and prints the table; with first set it times, before anything
// else of the period, a z14 tile asked first of a new server of each side. The
// bench hexagons of the last period stay stored.
func (r *tileRig) uncached(ctx context.Context, out io.Writer, runs int, first bool) ([]uncachedPeriod, error) {
	fmt.Fprintln(out, "1. uncached hotspot tiles: ours (counts held per filter, each tile's hexagons drawn once and kept as the")
	fmt.Fprintln(out, "   baseline's are stored, encoded for every request, through the whole server; a render's answer is not")
	fmt.Fprintln(out, "   compressed: a cache compresses what it keeps, after the answer, and this one keeps nothing) beside ST_AsMVT")
	fmt.Fprintln(out, "   over the same hexagons stored as polygons")
	fmt.Fprintln(out, "   (GiST index, Web Mercator, the same properties), served by a minimal handler as PostGIS tile servers do.")
	fmt.Fprintf(out, "   Each pass requests every tile once, one at a time; best of %d passes, alternating.\n\n", runs)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	var colds []string
	var results []uncachedPeriod
	fmt.Fprintln(tw, "period\tzoom\tres\ttiles\tfeatures ours\tfeatures PostGIS\tours ms/tile\tPostGIS ms/tile\tratio\t")
	for _, p := range r.periods {
		fmt.Fprintf(r.env.Stderr, "uncached tiles, %s…\n", p.name)
		if err := benchHexagonTable(ctx, r.db, r.areas, r.rs, p.f); err != nil {
			return nil, err
		}
		res := uncachedPeriod{period: p, cold: map[int]time.Duration{}, tilesAtZoom: map[int]int{}}
		if first {
			var err error
			if res.firstOurs, res.afterData, res.afterDataHeld, res.firstPG, err = r.firstTile(p, 14); err != nil {
				return nil, err
			}
		}
		_, ours := r.newServer(-1, true)
		pg := r.newPostGIS()
		oursURL, pgURL := r.oursURL(ours.URL, p), r.pgURL(pg.URL)
		// The first request at each resolution computes the filter's counts: timed
		// apart, as what a tile costs after new data arrive.
		for z := 10; z <= 14; z++ {
			start := time.Now()
			st, _, slow, err := r.getTile(oursURL(r.byZoom[z][0]))
			if err != nil || st >= 400 {
				return nil, fmt.Errorf("ours %s: status %d %v", oursURL(r.byZoom[z][0]), st, err)
			}
			res.cold[z] = time.Since(start)
			res.slow += slow
		}
		feats := func(url func(maptile.Tile) string) (map[int]int, map[maptile.Tile]map[uint64]orb.Geometry, error) {
			n := map[int]int{}
			byTile := map[maptile.Tile]map[uint64]orb.Geometry{}
			for _, t := range r.tileSet {
				st, b, slow, err := r.getTile(url(t))
				res.slow += slow
				if err != nil || st >= 400 {
					return nil, nil, fmt.Errorf("%s: status %d %v", url(t), st, err)
				}
				fs, err := tileFeatures(b)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %w", url(t), err)
				}
				n[int(t.Z)] += len(fs)
				byTile[t] = fs
			}
			return n, byTile, nil
		}
		var err error
		var oursByTile, pgByTile map[maptile.Tile]map[uint64]orb.Geometry
		if res.featsOurs, oursByTile, err = feats(oursURL); err != nil {
			return nil, err
		}
		if res.fPG, pgByTile, err = feats(pgURL); err != nil {
			return nil, err
		}
		res.differ = featureDifferences(r.tileSet, oursByTile, pgByTile)
		for _, d := range res.differ {
			fmt.Fprintf(r.env.Stderr, "%s: %s\n", p.name, d)
		}
		res.bestOurs, res.bestPG = map[int]time.Duration{}, map[int]time.Duration{}
		for run := 0; run < runs; run++ {
			for _, side := range []struct {
				url  func(maptile.Tile) string
				best map[int]time.Duration
			}{{oursURL, res.bestOurs}, {pgURL, res.bestPG}} {
				took := map[int]time.Duration{}
				for _, t := range r.tileSet {
					start := time.Now()
					st, _, slow, err := r.getTile(side.url(t))
					if err != nil || st >= 400 {
						return nil, fmt.Errorf("%s: status %d %v", side.url(t), st, err)
					}
					res.slow += slow
					took[int(t.Z)] += time.Since(start)
				}
				for z, d := range took {
					if b, ok := side.best[z]; !ok || d < b {
						side.best[z] = d
					}
				}
			}
		}
		for z := 10; z <= 14; z++ {
			n := len(r.byZoom[z])
			res.tilesAtZoom[z] = n
			res.totOurs += res.bestOurs[z]
			res.totPG += res.bestPG[z]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.1fx\t\n", p.name, z, tiles.ResForZoom(z, r.rs), n, res.featsOurs[z], res.fPG[z],
				ms(res.bestOurs[z])/float64(n), ms(res.bestPG[z])/float64(n), res.bestPG[z].Seconds()/res.bestOurs[z].Seconds())
		}
		fmt.Fprintf(tw, "%s\tall\t\t%d\t\t\t%.2f\t%.2f\t%.1fx\t\n", p.name, len(r.tileSet), ms(res.totOurs)/float64(len(r.tileSet)),
			ms(res.totPG)/float64(len(r.tileSet)), res.totPG.Seconds()/res.totOurs.Seconds())
		coldText := p.name + ", the first tile of each zoom after new data (counting the whole resolution):"
		for z := 10; z <= 14; z++ {
			coldText += fmt.Sprintf(" z%d %.0f ms", z, ms(res.cold[z]))
		}
		colds = append(colds, coldText)
		results = append(results, res)
		ours.Close()
		pg.Close()
	}
	tw.Flush()
	fmt.Fprintln(out)
	for _, c := range colds {
		fmt.Fprintln(out, "   "+c)
	}
	fmt.Fprintln(out, "\n   budget: ours faster (ratio = PostGIS time / ours, above 1 means ours is faster)")
	return results, nil
}

// uncachedThroughput compares requests a second of uncached hotspot tiles (the
// last period, the tile cache off) with ST_AsMVT over the bench hexagons stored by
// uncached, at one client and at clients, and prints the table.
func (r *tileRig) uncachedThroughput(ctx context.Context, out io.Writer, clients int, slice time.Duration) error {
	last := r.periods[len(r.periods)-1]
	_, ours := r.newServer(-1, true)
	defer ours.Close()
	pg := r.newPostGIS()
	defer pg.Close()
	// Every tile once first, so that both sides start with their counts held.
	for _, t := range r.tileSet {
		if st, _, _, err := r.getTile(r.oursURL(ours.URL, last)(t)); err != nil || st >= 400 {
			return fmt.Errorf("ours %v: status %d %v", t, st, err)
		}
	}
	fmt.Fprintf(out, "\n1b. uncached hotspot tiles, %s, requests a second: each client walks the tile set from its own\n", last.name)
	fmt.Fprintf(out, "   starting point, %s a side, best of 2 alternating:\n\n", slice)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clients\tours requests/s\tPostGIS requests/s\tratio\t")
	for _, c := range []int{1, clients} {
		fmt.Fprintf(r.env.Stderr, "uncached tile throughput at %d clients…\n", c)
		o, b, err := r.throughput(ctx, c, slice, r.oursURL(ours.URL, last), r.pgURL(pg.URL))
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.1fx\t\n", c, o, b, o/b)
	}
	return tw.Flush()
}

// firstTile times the tile over the town's centre at zoom z asked first of a new
// server of ours (its default cache, empty, nothing of the data yet loaded) and of a
// new PostGIS baseline handler over the stored bench hexagons of period p. Then, on
// that server of ours, running, it times the same tile after one report is added at
// its centre through the real ingest and the server told of new data, as the intake
// tells it (the tile is touched, so it is drawn again at the new data version): once
// at once, before the server has counted the tile's whole resolution in the
// background (afterData), and once more, after another report, when it holds those
// counts, as a server that has run a while does (afterHeld).
func (r *tileRig) firstTile(p period, z int) (ours, afterData, afterHeld, pg time.Duration, err error) {
	t := maptile.At(r.town.Center(), maptile.Zoom(z))
	srv, o := r.newServer(0, true)
	defer o.Close()
	url := r.oursURL(o.URL, p)(t)
	timeTile := func(what string) (time.Duration, error) {
		start := time.Now()
		if st, _, _, err := r.getTile(url); err != nil || st >= 400 {
			return 0, fmt.Errorf("%s, ours %v: status %d %v", what, t, st, err)
		}
		return time.Since(start), nil
	}
	newData := func(what string) (time.Duration, error) {
		if err := r.addReport(t.Center()); err != nil {
			return 0, err
		}
		srv.DataChanged()
		return timeTile(what)
	}
	if ours, err = timeTile("first tile"); err != nil {
		return 0, 0, 0, 0, err
	}
	if afterData, err = newData("first tile after new data"); err != nil {
		return 0, 0, 0, 0, err
	}
	// The background counts of the whole resolution, started by the tiles above.
	deadline := time.Now().Add(15 * time.Minute)
	for {
		busy, failed := srv.TilesWarming()
		if failed > 0 {
			return 0, 0, 0, 0, fmt.Errorf("first tile after new data: the server's background count of the tile's resolution failed or outlasted its time")
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, 0, fmt.Errorf("first tile after new data: the server still counts the tile's resolution after 15 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if afterHeld, err = newData("first tile after new data, counts held"); err != nil {
		return 0, 0, 0, 0, err
	}
	s := r.newPostGIS()
	defer s.Close()
	start := time.Now()
	if st, b, err := r.get(r.pgURL(s.URL)(t)); err != nil || st >= 400 {
		return 0, 0, 0, 0, fmt.Errorf("first tile, PostGIS %v: %d %v %s", t, st, err, b)
	}
	return ours, afterData, afterHeld, time.Since(start), nil
}

// addReport stores one report at place, dated the last day of the data, through
// the service's ingest pipeline, as one ingest run.
func (r *tileRig) addReport(place orb.Point) error {
	ing, err := r.env.NewIngester(r.ctx, r.db)
	if err != nil {
		return err
	}
	v, err := r.env.validator(r.end)
	if err != nil {
		return err
	}
	r.added++
	csv := fmt.Sprintf("source,source_ref,kind,strands,occurred,lat,lon\n%s,bench-new-data-%d,crime,%s,%s,%.6f,%.6f\n",
		r.env.Sources[0], r.added, r.env.Strands[0], r.end.Format(time.DateOnly), place.Lat(), place.Lon())
	in, err := geo.NewReader(strings.NewReader(csv), geo.ReaderOptions{})
	if err != nil {
		return err
	}
	sum, err := ing.Run(r.ctx, "bench: a report added", in, v)
	if err != nil {
		return fmt.Errorf("adding a report: %w", err)
	}
	if sum.Inserted != 1 {
		return fmt.Errorf("adding a report: %d stored, want 1 (%+v)", sum.Inserted, sum)
	}
	return nil
}

// throughput runs clients against side a and then side b, each client asking for the
// tiles of the set in turn from its own starting point, for slice each, twice,
// alternating, and returns the better requests per second of each side.
func (r *tileRig) throughput(ctx context.Context, clients int, slice time.Duration, a, b func(maptile.Tile) string) (rpsA, rpsB float64, err error) {
	side := func(url func(maptile.Tile) string) (float64, error) {
		n, _, err := hammerClients(ctx, clients, slice, func(id int) func() (int, error) {
			i := id * len(r.tileSet) / max(1, clients)
			return func() (int, error) {
				u := url(r.tileSet[i%len(r.tileSet)])
				i++
				st, _, _, err := r.getTile(u)
				if err == nil && st >= 400 {
					err = fmt.Errorf("%s: status %d", u, st)
				}
				return st, err
			}
		})
		return float64(n) / slice.Seconds(), err
	}
	for range 2 {
		x, err := side(a)
		if err != nil {
			return 0, 0, err
		}
		y, err := side(b)
		if err != nil {
			return 0, 0, err
		}
		rpsA, rpsB = max(rpsA, x), max(rpsB, y)
	}
	return rpsA, rpsB, nil
}

// cachedResult is what cachedVsFixed measured.
type cachedResult struct {
	bytes, zoom       int
	rpsTile, rpsFixed float64
}

// cachedVsFixed compares a cached hotspot tile through the whole server at base with
// a bare handler writing the same bytes, and prints the table.
func (r *tileRig) cachedVsFixed(ctx context.Context, out io.Writer, base string, clients int, slice time.Duration) (cachedResult, error) {
	centre := maptile.At(r.town.Center(), 13)
	tileURL := fmt.Sprintf("%s/tiles/hotspots/%d/%d/%d.mvt%s", base, centre.Z, centre.X, centre.Y, r.periods[0].query)
	// The render's own answer is the tile as encoded; the cache then holds it gzipped,
	// compressed in the background: the tile is asked for until it comes gzipped.
	var body []byte
	for deadline := time.Now().Add(time.Minute); ; {
		st, b, err := r.get(tileURL)
		if err != nil || st != 200 {
			return cachedResult{}, fmt.Errorf("cached tile: %d %v", st, err)
		}
		if isGzip(b) {
			body = b
			break
		}
		if time.Now().After(deadline) {
			return cachedResult{}, fmt.Errorf("cached tile: not held gzipped a minute after its render")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fixed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer fixed.Close()
	fixedURL := fixed.URL + "/tile.mvt"
	res := cachedResult{bytes: len(body), zoom: int(centre.Z)}
	// Each side's best of four alternating turns (two slices each in all): a request
	// here costs tens of microseconds, so a turn that meets the machine's other work
	// (a checkpoint, autovacuum after the load) is far off the other turns; the best
	// of more, shorter turns is what each side can do.
	const turns = 4
	turn := slice * 2 / turns
	for i := 0; i < turns; i++ {
		n, _, err := hammer(ctx, clients, turn, func() (int, error) { st, _, err := r.get(fixedURL); return st, err })
		if err != nil {
			return res, err
		}
		res.rpsFixed = max(res.rpsFixed, float64(n)/turn.Seconds())
		n, _, err = hammer(ctx, clients, turn, func() (int, error) { st, _, err := r.get(tileURL); return st, err })
		if err != nil {
			return res, err
		}
		res.rpsTile = max(res.rpsTile, float64(n)/turn.Seconds())
	}
	fmt.Fprintf(out, "\n2. a cached %d-byte hotspot tile (z%d) through the whole server (session, role check, cache, ETag)\n", len(body), centre.Z)
	fmt.Fprintf(out, "   beside a bare handler writing the same bytes; %d clients, best of %d alternating turns of %s each:\n\n", clients, turns, turn)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "handler\trequests/s\tµs/request\t")
	fmt.Fprintf(tw, "fixed byte slice\t%.0f\t%.0f\t\n", res.rpsFixed, 1e6/res.rpsFixed*float64(clients))
	fmt.Fprintf(tw, "cached tile\t%.0f\t%.0f\t\n", res.rpsTile, 1e6/res.rpsTile*float64(clients))
	tw.Flush()
	fmt.Fprintf(out, "\n   ratio fixed / cached: %.2f (budget: within 2x)\n", res.rpsFixed/res.rpsTile)
	return res, nil
}

// loadResult is what loadRun measured.
type loadResult struct {
	requests      int64
	elapsed       time.Duration
	p50, p99, max float64 // ms
	errors        int64
	statuses      map[int]int
}

// loadRun runs clients panning and zooming over the town at z10 to z14 against the
// server at base for duration, and prints the table; stats, when not nil, gives the
// server's tile cache counters.
func (r *tileRig) loadRun(ctx context.Context, out io.Writer, base string, clients int, duration time.Duration,
	stats func() (int64, int, int64, int64)) (loadResult, error) {
	var h0, m0 int64
	if stats != nil {
		_, _, h0, m0 = stats()
	}
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	statuses := map[int]int{}
	town := r.town
	n, elapsed, err := hammerClients(ctx, clients, duration, func(id int) func() (int, error) {
		rng := rand.New(rand.NewPCG(uint64(id), 7))
		// Each client keeps a filter of its own: a period and, for two in three, a strand.
		p := r.periods[rng.IntN(len(r.periods))]
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
							queue = append(queue, fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt%s", base, layer, t.Z, t.X, t.Y, q))
						}
					}
				}
			}
			u := queue[0]
			queue = queue[1:]
			start := time.Now()
			st, _, err := r.get(u)
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
		return loadResult{}, err
	}
	slices.Sort(lat)
	pct := func(q float64) float64 { return ms(lat[min(len(lat)-1, int(q*float64(len(lat))))]) }
	res := loadResult{requests: n, elapsed: elapsed, p50: pct(0.5), p99: pct(0.99), max: ms(lat[len(lat)-1]), errors: errs.Load(), statuses: statuses}
	fmt.Fprintf(out, "\n3. load run: %d clients panning and zooming over the town at z10 to z14, each move asking for the\n", clients)
	fmt.Fprintf(out, "   5x4 tiles of a 1280x800 map in three layers (hotspots, areas, alerts), each client with its own filter\n")
	fmt.Fprintf(out, "   (%s or %s; all strands, race or religion), over %s:\n\n", periodShort(r.periods[0].name), periodShort(r.periods[1].name), elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	if stats != nil {
		_, tiles1, h1, m1 := stats()
		fmt.Fprintln(tw, "requests\trequests/s\tp50 ms\tp99 ms\tmax ms\terrors\tcache hits\tcache misses\ttiles held\t")
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.2f\t%.1f\t%d\t%d\t%d\t%d\t\n", n, float64(n)/elapsed.Seconds(), res.p50, res.p99, res.max,
			res.errors, h1-h0, m1-m0, tiles1)
	} else {
		fmt.Fprintln(tw, "requests\trequests/s\tp50 ms\tp99 ms\tmax ms\terrors\t")
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.2f\t%.1f\t%d\t\n", n, float64(n)/elapsed.Seconds(), res.p50, res.p99, res.max, res.errors)
	}
	tw.Flush()
	fmt.Fprintf(out, "\n   statuses: %v (budget: no errors)\n", statuses)
	return res, nil
}

// periodShort is a period's name as the load run's text gives it: "28 days", "5 years".
func periodShort(name string) string {
	switch {
	case len(name) > 5 && name[:5] == "last ":
		return name[5:]
	case len(name) > 4 && name[:4] == "all ":
		return name[4:]
	}
	return name
}

// isGzip reports whether a tile's body is gzipped (a tile fresh from its render is
// answered as encoded): gzip's magic bytes say so, as a tile's protocol buffer starts
// with its first layer's tag, 0x1a.
func isGzip(b []byte) bool { return len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b }

// tileFeatures returns the features of a tile's body, gzipped or not, by id, with
// their geometry in tile coordinates.
func tileFeatures(b []byte) (map[uint64]orb.Geometry, error) {
	out := map[uint64]orb.Geometry{}
	if len(b) == 0 {
		return out, nil
	}
	if isGzip(b) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if b, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		for _, f := range l.Features {
			id, _ := f.ID.(uint64)
			if v, ok := f.ID.(float64); ok {
				id = uint64(v)
			}
			out[id] = f.Geometry
		}
	}
	return out, nil
}

// featureDifferences names, tile by tile, each feature one side draws and the other
// does not, with where its geometry lies in the tile (the extent is 4096 units, the
// buffer 64 past each edge) and its area in square units.
func featureDifferences(set []maptile.Tile, ours, pg map[maptile.Tile]map[uint64]orb.Geometry) []string {
	var out []string
	describe := func(g orb.Geometry) string {
		b := g.Bound()
		return fmt.Sprintf("x %.0f to %.0f, y %.0f to %.0f, area %.1f", b.Min[0], b.Max[0], b.Min[1], b.Max[1], math.Abs(planar.Area(g)))
	}
	for _, t := range set {
		for id, g := range ours[t] {
			if _, ok := pg[t][id]; !ok {
				out = append(out, fmt.Sprintf("tile %d/%d/%d: cell %x drawn by ours alone (%s)", t.Z, t.X, t.Y, id, describe(g)))
			}
		}
		for id, g := range pg[t] {
			if _, ok := ours[t][id]; !ok {
				out = append(out, fmt.Sprintf("tile %d/%d/%d: cell %x drawn by ST_AsMVT alone (%s)", t.Z, t.X, t.Y, id, describe(g)))
			}
		}
	}
	slices.Sort(out)
	return out
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
