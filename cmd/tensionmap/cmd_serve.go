package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
	"github.com/tensionmap/tensionmap/tiles"
	"github.com/tensionmap/tensionmap/web"
)

// serveCmd is `tensionmap serve`, with parsing split from running so that tests start
// the whole server on :0.
type serveCmd struct {
	cfg     Config
	log     *slog.Logger
	onReady func(addr string) // called with the bound address once listening
}

func runServe(ctx context.Context, env *Env, args []string) error {
	c := &env.Config
	fs := newFlagSet(env, "serve", "serve [flags]")
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to listen on (env TENSIONMAP_LISTEN)")
	fs.DurationVar(&c.QueryTimeout, "query-timeout", c.QueryTimeout, "longest a database statement may run (env TENSIONMAP_QUERY_TIMEOUT)")
	fs.IntVar(&c.SuppressBelow, "suppress-below", c.SuppressBelow, "strategic users see no count below this (env TENSIONMAP_SUPPRESS_BELOW)")
	fs.IntVar(&c.RoundTo, "strategic-rounding", c.RoundTo, "strategic counts are rounded to a multiple of this; 1 turns it off (env TENSIONMAP_STRATEGIC_ROUNDING)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", c.SecureCookies, "mark cookies Secure: HTTPS or localhost only (env TENSIONMAP_SECURE_COOKIES)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "a session's life without activity (env TENSIONMAP_SESSION_TTL)")
	fs.Var((*strList)(&c.CORSOrigins), "cors-origins", "origins whose pages may call the API, comma-separated; none by default (env TENSIONMAP_CORS_ORIGINS)")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take client addresses from X-Forwarded-For: only behind a proxy that sets it (env TENSIONMAP_TRUST_PROXY)")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", c.DBMaxConns, "database connections (env TENSIONMAP_DB_MAX_CONNS)")
	fs.Float64Var(&c.IntakeRate, "intake-rate", c.IntakeRate, "intakes a token may start a minute, in bursts of half that (env TENSIONMAP_INTAKE_RATE)")
	fs.IntVar(&c.IntakeConcurrency, "intake-concurrency", c.IntakeConcurrency, "intakes a token may have in flight (env TENSIONMAP_INTAKE_CONCURRENCY)")
	fs.StringVar(&c.BasemapPMTiles, "basemap-pmtiles", c.BasemapPMTiles, "a PMTiles archive of a Protomaps basemap, drawn under the data (env TENSIONMAP_BASEMAP_PMTILES)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if err := c.needDatabase(); err != nil {
		return err
	}
	s := &serveCmd{cfg: *c, log: c.Logger(), onReady: func(addr string) {
		fmt.Fprintf(env.Stdout, "tensionmap %s listening on http://%s\n", version, displayAddr(addr))
	}}
	return s.Run(ctx)
}

// Run serves until ctx ends, then shuts down gracefully. The server starts whether
// or not the database is up: it migrates as soon as it can, answers 503 meanwhile,
// and rides out database restarts the same way.
func (s *serveCmd) Run(ctx context.Context) error {
	db, err := postgis.OpenLazy(s.cfg.DatabaseURL, postgis.Options{StatementTimeout: s.cfg.QueryTimeout,
		AppName: "tensionmap serve", MaxConns: int32(s.cfg.DBMaxConns)})
	if err != nil {
		return err
	}
	defer db.Close()
	var reads tiles.Source
	if s.cfg.ReadURL != "" {
		rdb, err := postgis.OpenLazy(s.cfg.ReadURL, postgis.Options{StatementTimeout: s.cfg.QueryTimeout,
			AppName: "tensionmap serve (reads)", MaxConns: int32(s.cfg.DBMaxConns)})
		if err != nil {
			return fmt.Errorf("TENSIONMAP_READ_DATABASE_URL: %w", err)
		}
		defer rdb.Close()
		reads = &postgis.Replica{DB: rdb, Primary: db}
	}
	var basemap *tiles.Archive
	if s.cfg.BasemapPMTiles != "" {
		// A corrupt or truncated archive stops the start with the reason.
		basemap, err = tiles.OpenArchiveFile(s.cfg.BasemapPMTiles)
		if err != nil {
			return fmt.Errorf("basemap-pmtiles: %w", err)
		}
		defer basemap.Close()
		info := basemap.Info()
		s.log.Info("basemap", "file", s.cfg.BasemapPMTiles, "minzoom", info.MinZoom, "maxzoom", info.MaxZoom,
			"bounds", fmt.Sprintf("%.4f,%.4f,%.4f,%.4f", info.Bounds.Min[0], info.Bounds.Min[1], info.Bounds.Max[0], info.Bounds.Max[1]))
	}
	if len(s.cfg.key) == 0 {
		s.log.Warn("no pseudonymisation key: intake records with victim or offender references will be refused (set TENSIONMAP_PSEUDONYM_KEY_FILE)")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ing := &lazyIngester{db: db, cfg: &s.cfg}
	migrated := make(chan struct{})
	sched := newScheduler(db, &s.cfg, s.log)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if s.migrate(ctx, db) {
			close(migrated)
		}
	}()
	go func() {
		defer wg.Done()
		sched.Loop(ctx, migrated)
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), poolCollector(db))
	handler := web.New(web.Options{
		Version: version, Strands: s.cfg.Strands, Sources: s.cfg.Sources,
		SuppressBelow: s.cfg.SuppressBelow, RoundTo: s.cfg.RoundTo, DisclosureKey: s.cfg.key,
		SessionTTL: s.cfg.SessionTTL, SecureCookies: s.cfg.SecureCookies, CORSOrigins: s.cfg.CORSOrigins, TrustProxy: s.cfg.TrustProxy,
		Unavailable:  postgis.Unavailable,
		AfterIngest:  sched.Kick,
		BasemapStyle: s.cfg.BasemapStyle, Basemap: basemap, StaticDir: s.cfg.StaticDir, TileCacheBytes: int64(s.cfg.TileCacheMB) << 20, TileWait: s.cfg.TileWait,
		TensionScale: s.cfg.TensionScale, Location: s.cfg.location, Cases: s.cfg.cases,
		IntakeRate: s.cfg.IntakeRate, IntakeConcurrency: s.cfg.IntakeConcurrency, IntakeWriters: intakeWriters(s.cfg.DBMaxConns),
		// The database announces its changes (postgis.ListenForChanges below): the data
		// version is trusted until it does.
		Reads: reads, VersionTTL: -1,
	}, db, ing, s.log, reg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		db.ListenForChanges(ctx, func(string) { handler.DataChanged() }, func(err error) {
			s.log.Warn("listening for database changes", "err", err)
		})
	}()
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Listen, err)
	}
	srv := handler.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "version", version)
	if s.onReady != nil {
		s.onReady(ln.Addr().String())
	}
	select {
	case err := <-errc:
		cancel()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutCtx, stop := context.WithTimeout(context.Background(), 15*time.Second)
	defer stop()
	err = srv.Shutdown(shutCtx)
	cancel()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// migrate applies the migrations as soon as the database answers, retrying with a
// growing pause; it reports whether it did before ctx ended.
func (s *serveCmd) migrate(ctx context.Context, db *postgis.DB) bool {
	pause := 500 * time.Millisecond
	for {
		applied, err := db.Migrate(ctx)
		if err == nil {
			if len(applied) > 0 {
				s.log.Info("applied migrations", "versions", applied)
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.log.Warn("database not ready; retrying", "err", err, "in", pause)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		pause = min(pause*2, 10*time.Second)
	}
}

// intakeConns is how many connections one intake holds at most: its lock, its two
// batch writers and, briefly, its run record.
const intakeConns = 4

// intakeWriters is how many intakes may store at once so that they hold at most half
// of the pool: the other half stays for reads (pages, tiles, the API). A semaphore
// over one pool rather than a second pool for writes: the connections that no
// intake uses serve reads, and the server opens no more than it was given.
func intakeWriters(maxConns int) int {
	return max(1, maxConns/2/intakeConns)
}

// lazyIngester sets the ingest up on first use, once the database is there.
type lazyIngester struct {
	db  *postgis.DB
	cfg *Config
	mu  sync.Mutex
	ing *ingester
}

func (l *lazyIngester) Ingest(ctx context.Context, r geo.Reader, defaults geo.Defaults, actor string, onReject func(*geo.RowError)) (geo.Summary, error) {
	l.mu.Lock()
	if l.ing == nil {
		ing, err := newIngester(ctx, l.db, l.cfg)
		if err != nil {
			l.mu.Unlock()
			if postgis.Unavailable(err) {
				return geo.Summary{}, err
			}
			return geo.Summary{}, geo.Errorf(geo.EUNAVAILABLE, "the intake is not ready: %v", err)
		}
		l.ing = ing
	}
	ing := l.ing
	l.mu.Unlock()
	return ing.Ingest(ctx, r, defaults, actor, onReject)
}

// poolCollector exports the database pool's state.
func poolCollector(db *postgis.DB) prometheus.Collector {
	return &dbPoolCollector{db: db,
		acquired: prometheus.NewDesc("tensionmap_db_pool_acquired_connections", "Connections in use.", nil, nil),
		idle:     prometheus.NewDesc("tensionmap_db_pool_idle_connections", "Idle connections.", nil, nil),
		total:    prometheus.NewDesc("tensionmap_db_pool_total_connections", "Open connections.", nil, nil),
		max:      prometheus.NewDesc("tensionmap_db_pool_max_connections", "Most connections the pool opens.", nil, nil),
		waits:    prometheus.NewDesc("tensionmap_db_pool_acquire_waits_total", "Acquisitions that had to wait for a connection.", nil, nil),
	}
}

type dbPoolCollector struct {
	db                                *postgis.DB
	acquired, idle, total, max, waits *prometheus.Desc
}

func (c *dbPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.waits} {
		ch <- d
	}
}

func (c *dbPoolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.db.Pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
}

// displayAddr turns ":8080" or "[::]:8080" into "localhost:8080" for people to click.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
