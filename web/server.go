package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/paulmach/orb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
	"github.com/tensionmap/tensionmap/tiles"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the web layer needs of the database.
type Store interface {
	access.Store
	// AreaNames returns the names of the stored areas among codes, by code.
	AreaNames(ctx context.Context, codes []string) (map[string]string, error)
	// Ready returns nil when the database answers and its schema is current.
	Ready(ctx context.Context) error
	// Stats summarise the data held.
	Stats(ctx context.Context) (geo.Stats, error)
	Resolutions(ctx context.Context) ([]int, error)
	CellCounts(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error)
	// CellTotals is CellCounts with each cell's count alone, what the tiles draw.
	CellTotals(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error)
	// CellCountsIn is CellCounts for the given cells alone, read by index.
	CellCountsIn(ctx context.Context, res int, cells []uint64, f geo.Filter) ([]geo.CellCount, error)
	AreaLevels(ctx context.Context) ([]string, error)
	AreaCounts(ctx context.Context, level string, f geo.Filter) ([]geo.AreaCount, error)
	AreaCount(ctx context.Context, code string, f geo.Filter) (geo.AreaCount, error)
	Incidents(ctx context.Context, q geo.IncidentQuery) ([]geo.StoredIncident, error)

	// The tension engine's results.
	Alerts(ctx context.Context, f tension.AlertFilter) ([]tension.StoredAlert, error)
	Alert(ctx context.Context, id int64) (*tension.StoredAlert, error)
	MoveAlert(ctx context.Context, id int64, to, reason, actor string) (*tension.StoredAlert, error)
	Hotspots(ctx context.Context, res int) (from, to time.Time, runID int64, hotspots []tension.Hotspot, err error)
	NearRepeat(ctx context.Context) (*tension.NearRepeatReport, int64, error)
	EngineRuns(ctx context.Context, f tension.RunFilter) ([]tension.RunRecord, error)
	EngineRun(ctx context.Context, id int64) (tension.RunRecord, error)

	// What the tiles read: versions that change when the data, the analysis or the
	// areas do, and the areas with their geometry.
	DataVersion(ctx context.Context) (int64, error)
	AnalysisVersion(ctx context.Context) (int64, error)
	AreasVersion(ctx context.Context) (string, error)
	LoadAreas(ctx context.Context) ([]geo.Area, error)
	// Visit records a home page seen and returns the user's last visit before
	// this one (zero on a first visit); ReportsLoadedSince counts what arrived since.
	Visit(ctx context.Context, userID int64, at time.Time, gap time.Duration) (time.Time, error)
	ReportsLoadedSince(ctx context.Context, since time.Time) (int64, error)
	// AreasOutline is the outline of every area together: where a citywide alert is.
	AreasOutline(ctx context.Context) (orb.MultiPolygon, error)
	// AreasAttribution is the credit the areas' licence asks for, "" when none is stored.
	AreasAttribution(ctx context.Context) (string, error)
	// WeeklyCounts are a cell's or an area's counts by week, for the map's panel.
	WeeklyCounts(ctx context.Context, p geo.Place, f geo.Filter, end time.Time, weeks int) ([]int, error)

	// Impact assessments and trigger events.
	CreateAssessment(ctx context.Context, a *tension.Assessment, actor string) error
	Assessment(ctx context.Context, id int64) (*tension.Assessment, error)
	Assessments(ctx context.Context, f tension.AssessmentFilter) ([]*tension.Assessment, error)
	// PlacesInScope reports whether an assessment's areas and map extent meet the
	// areas of scope, as tension.AssessmentFilter.Scope counts it.
	PlacesInScope(ctx context.Context, areas []string, bbox []float64, scope []string) (bool, error)
	// AssessmentsInScope returns those of ids whose assessments a caller scoped to
	// the areas of scope may read (theirs and the citywide ones).
	AssessmentsInScope(ctx context.Context, ids []int64, scope []string) ([]int64, error)
	UpdateAssessment(ctx context.Context, a *tension.Assessment, actor string) (*tension.Assessment, error)
	MoveAssessment(ctx context.Context, id int64, to, reason string, version int, actor string) (*tension.Assessment, error)
	AddAction(ctx context.Context, id int64, x *tension.Action, actor string) error
	SetActionDone(ctx context.Context, id, actionID int64, done bool, actor string) error
	LinkEvents(ctx context.Context, id int64, link, unlink []int64, actor string) error
	CreateTriggerEvent(ctx context.Context, e *tension.TriggerEvent, by string) error
	TriggerEventList(ctx context.Context, limit int) ([]tension.TriggerEventDetail, error)
	TriggerEvent(ctx context.Context, id int64) (*tension.TriggerEventDetail, error)
	// Review computes the strategic review's figures, raw.
	Review(ctx context.Context, q geo.ReviewQuery) (*geo.Review, error)
	// The engine's source, for the review's hot spot analysis of a period.
	tension.Source

	// DailyCounts are the counts of each day over [from, to] for the filter's
	// strands, kinds and sources (its dates are ignored), citywide.
	DailyCounts(ctx context.Context, f geo.Filter, from, to time.Time) ([]int, error)
}

// Ingester runs the ingest pipeline over one input for the partner intake API.
type Ingester interface {
	// Ingest validates, bins and stores the records of r, each rejected one handed
	// to onReject, and returns the summary. actor names who sent them.
	Ingest(ctx context.Context, r geo.Reader, defaults geo.Defaults, actor string, onReject func(*geo.RowError)) (geo.Summary, error)
}

// Options configure the server. Zero values take the defaults noted.
type Options struct {
	Version string
	Strands []string // configured strands, for validating filters
	Sources []string

	SuppressBelow int // strategic: counts 1..k-1 are suppressed; 3 when 0
	RoundTo       int // strategic: shown counts are rounded to a multiple of this; 5 when 0, 1 to disable
	// Noise is the largest perturbation added to a strategic count before it is
	// withheld or rounded (docs/privacy.md); 4 when 0, -1 for none.
	Noise int
	// DisclosureKey keys the perturbation; a random key drawn at start when empty
	// (answers then change when the server restarts).
	DisclosureKey []byte

	SessionTTL    time.Duration // a session's life without activity; 8h when 0
	SecureCookies bool          // set the Secure attribute on cookies
	CORSOrigins   []string      // origins allowed to call the API from a browser; none when empty
	TrustProxy    bool          // take the client address from X-Forwarded-For / X-Real-IP

	MaxBody        int64         // request bodies; 1 MiB when 0
	MaxIntakeBody  int64         // partner intake; 32 MiB when 0
	RequestTimeout time.Duration // per request; 30s when 0
	IntakeTimeout  time.Duration // partner intake; 5m when 0
	// ReadHeaderTimeout is how long a client has to send a request's headers; 10s
	// when 0.
	ReadHeaderTimeout time.Duration

	// IntakeConcurrency is how many intakes one caller (a token or a user) may have
	// in flight; 2 when 0. IntakeRate is how many it may start a minute, with
	// bursts of half that; 60 when 0.
	IntakeConcurrency int
	IntakeRate        float64
	// IntakeWriters is how many intakes store at once over all callers, each
	// having read its whole body first; the others wait without holding a database
	// connection. The command sets it so that intakes hold at most half the pool;
	// 2 when 0.
	IntakeWriters int

	SignInMax    int           // failed sign-ins allowed per address and per username in SignInWindow; 5 when 0
	SignInWindow time.Duration // 15m when 0

	// Unavailable reports whether an error means the database cannot be reached
	// (answered with 503).
	Unavailable func(error) bool
	// AfterIngest, when set, is called after the intake stored new incidents (the
	// tension engine runs again soon).
	AfterIngest func()

	// StaticDir, when set, serves /static from this directory instead of the files
	// embedded in the binary: for working on the map's sources without rebuilding.
	StaticDir string
	// BasemapStyle is the URL of a MapLibre style for the map's basemap; empty
	// draws the data on a plain background, which works on a closed network.
	BasemapStyle string
	// Basemap, when set, is a PMTiles archive of vector tiles (a Protomaps build)
	// served at /basemap/{z}/{x}/{y}.mvt and drawn under the data with the map's own
	// style; it takes the place of BasemapStyle. The caller closes it.
	Basemap *tiles.Archive
	// Location is the service's time zone: the calendar days of times such as an
	// assessment's opening; UTC when nil.
	Location *time.Location
	// TensionScale is the ordered scale of tension levels, lowest first;
	// tension.DefaultScale when empty.
	TensionScale []string
	// TileCacheBytes bounds the rendered tiles kept in memory; 256 MiB when 0, none
	// when below 0 (for measuring renders).
	TileCacheBytes int64
	// TileWait is how long a tile request waits for a render before it is answered
	// with the tile's previous version (marked stale) or a 503 with Retry-After;
	// tiles.DefaultWait when 0.
	TileWait time.Duration
	// Reads, when set, is where the tiles (and the cell counts they share with the
	// panels) read from: a streaming replica. Everything else, writes and the
	// engine, uses the store.
	Reads tiles.Source
	// VersionTTL is how long the tiles trust the data version before asking again
	// (tiles.VersionTTL when 0); below 0 until DataChanged is called, for a server
	// that listens for the database's announcements.
	VersionTTL time.Duration

	// Cases configure victim cases: the working-day calendar, the standards and
	// targets, the repeat rule.
	Cases CaseOptions

	Now func() time.Time
}

func (o *Options) defaults() {
	if o.SuppressBelow == 0 {
		o.SuppressBelow = 3
	}
	if o.Noise == 0 {
		o.Noise = 4
	}
	if len(o.DisclosureKey) == 0 {
		o.DisclosureKey = make([]byte, 32)
		rand.Read(o.DisclosureKey) // never fails (crypto/rand)
	}
	if o.RoundTo == 0 {
		o.RoundTo = 5
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if o.MaxBody == 0 {
		o.MaxBody = 1 << 20
	}
	if o.MaxIntakeBody == 0 {
		o.MaxIntakeBody = 32 << 20
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.IntakeTimeout == 0 {
		o.IntakeTimeout = 5 * time.Minute
	}
	if o.ReadHeaderTimeout == 0 {
		o.ReadHeaderTimeout = 10 * time.Second
	}
	if o.IntakeConcurrency == 0 {
		o.IntakeConcurrency = 2
	}
	if o.IntakeRate == 0 {
		o.IntakeRate = 60
	}
	if o.IntakeWriters == 0 {
		o.IntakeWriters = 2
	}
	if o.SignInMax == 0 {
		o.SignInMax = 5
	}
	if o.SignInWindow == 0 {
		o.SignInWindow = 15 * time.Minute
	}
	if o.Unavailable == nil {
		o.Unavailable = func(error) bool { return false }
	}
	if len(o.TensionScale) == 0 {
		o.TensionScale = tension.DefaultScale
	}
	if o.TileCacheBytes == 0 {
		o.TileCacheBytes = 256 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Cases.defaults(o.Location)
}

// Server routes requests to handlers, each under a policy naming the roles that may
// call it.
type Server struct {
	opts     Options
	store    Store
	ingester Ingester
	log      *slog.Logger
	pages    *template.Template
	router   chi.Router
	policies map[string]policy // by "METHOD pattern"
	limiter  *access.Limiter
	signIns  keyedGate // one sign-in attempt at a time per limiter key
	metrics  *metrics
	gatherer prometheus.Gatherer
	tiles    *tiles.Service
	quiet    atomic.Int64 // quiet answers so far, for sampling their log lines
	// requests numbers the requests for their ids (requestID), after requestPrefix.
	requests      atomic.Uint64
	requestPrefix string
	auth          *authCache
	intake        *intakeGate
	cases         CaseStore // nil when the store keeps no cases
}

// New returns a server over store. reg receives the server's metrics and is what
// /metrics serves; nil for none.
func New(opts Options, store Store, ingester Ingester, log *slog.Logger, reg *prometheus.Registry) *Server {
	opts.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:          opts,
		store:         store,
		ingester:      ingester,
		log:           log,
		pages:         template.Must(template.New("").Funcs(templateFuncs).ParseFS(templateFS, "templates/*.html")),
		policies:      map[string]policy{},
		limiter:       access.NewLimiter(opts.SignInMax, opts.SignInWindow),
		metrics:       newMetrics(reg),
		tiles:         newTileService(store, opts, log),
		auth:          newAuthCache(),
		requestPrefix: newRequestPrefix(),
		intake:        newIntakeGate(opts.IntakeConcurrency, opts.IntakeRate, opts.IntakeWriters),
	}
	if reg != nil {
		s.gatherer = reg
		s.metrics.tileCache(reg, s.tiles.Cache())
	}
	if cs, ok := store.(CaseStore); ok {
		s.cases = cs
	}
	r := chi.NewRouter()
	r.Use(middleware.GetHead)
	if opts.TrustProxy {
		r.Use(middleware.RealIP)
	}
	r.Use(s.accessLog, s.recoverer, s.securityHeaders, s.cors)
	r.Use(compress("application/json", "text/html", "text/css", "application/javascript", "text/javascript", "image/svg+xml"))
	r.Use(s.authenticate)
	r.NotFound(s.handleNotFound)
	r.MethodNotAllowed(s.handleMethodNotAllowed)
	s.router = r
	s.routes()
	return s
}

// HTTPServer returns an http.Server for the handler with the service's timeouts: a
// client has ReadHeaderTimeout to send its headers (a slow-header client is cut off
// then), the intake's timeout to send a body, and a little longer for the answer.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.IntakeTimeout, // partner uploads, read whole before any work
		WriteTimeout:      s.opts.IntakeTimeout + time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// TileCacheStats reports the rendered-tile cache: bytes and tiles held, hits and misses.
func (s *Server) TileCacheStats() (bytes int64, tiles int, hits, misses int64) {
	return s.tiles.Cache().Stats()
}

// TilesWarming reports how many counts of a whole resolution the tiles are making
// in the background (none once every resolution and filter asked for is held), and
// how many such counts failed or outlasted their time.
func (s *Server) TilesWarming() (inFlight int, failed int64) { return s.tiles.Warming() }

// TileCacheChanges reports how many held tiles changes of the data version kept
// (untouched by the change) and left to be drawn again.
func (s *Server) TileCacheChanges() (kept, redrawn int64) { return s.tiles.Cache().Changes() }

// Router returns the chi router, for walking the routes in tests.
func (s *Server) Router() chi.Routes { return s.router }

func (s *Server) staticFiles() http.Handler {
	if s.opts.StaticDir != "" {
		return http.StripPrefix("/static/", http.FileServer(filesOnly{http.Dir(s.opts.StaticDir)}))
	}
	sub, _ := fs.Sub(staticFS, "static")
	return http.StripPrefix("/static/", http.FileServer(filesOnly{http.FS(sub)}))
}

// filesOnly serves files and nothing else: a directory is not found, so /static/
// lists nothing.
type filesOnly struct{ fs http.FileSystem }

func (f filesOnly) Open(name string) (http.File, error) {
	file, err := f.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

var templateFuncs = template.FuncMap{
	// dict builds a map from key, value pairs, for passing data to a sub-template.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
	// num writes a count as shown: "w/h" when withheld.
	"num": func(n *int) string {
		if n == nil {
			return "w/h"
		}
		return strconv.Itoa(*n)
	},
	"pct": func(v *float64) string {
		if v == nil {
			return "–"
		}
		return strconv.FormatFloat(*v, 'f', 1, 64) + "%"
	},
	"chg": func(v *float64) string {
		if v == nil {
			return "–"
		}
		sign := ""
		if *v >= 0 {
			sign = "+"
		}
		return sign + strconv.FormatFloat(*v, 'f', 1, 64) + "%"
	},
	"fixed": func(v *float64, digits int) string {
		if v == nil {
			return "–"
		}
		return strconv.FormatFloat(*v, 'f', digits, 64)
	},
	"parseday": func(s string) time.Time {
		t, _ := time.Parse(time.DateOnly, s)
		return t
	},
	// words writes an identifier (under_review) as words (under review).
	"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"has":   func(list []string, v string) bool { return slices.Contains(list, v) },
	"join":  func(list []string, sep string) string { return strings.Join(list, sep) },
	"isoday": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.DateOnly)
	},
	// pvalue writes a p-value with two significant figures however small.
	"pvalue": pValue,
	// level names an area level ("LSOA", "Ward").
	"level": levelName,
	// actor names who did something ("alice at the command line").
	"actor": actorName,
	// history says an entry of an assessment's history as a sentence.
	"history": historyLine,
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"inc":   func(n int) int { return n + 1 },
	"deref": func(b *bool) bool { return b != nil && *b },
	// list2 pairs two titled lists of repeats, for one table each.
	"list2": func(t1 string, r1 any, t2 string, r2 any) []map[string]any {
		return []map[string]any{{"Title": t1, "Rows": r1}, {"Title": t2, "Rows": r2}}
	},
	"day": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.Format("2 January 2006")
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format("2 Jan 2006 15:04")
	},
}

// shortValue writes a value of an assessment's history briefly: lists joined, long
// texts cut.
func shortValue(v any) string {
	var out string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		out = x
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			if m, ok := p.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					parts = append(parts, t)
					continue
				}
			}
			parts = append(parts, shortValue(p))
		}
		out = strings.Join(parts, "; ")
	case float64:
		out = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, _ := json.Marshal(x)
		out = string(b)
	}
	if r := []rune(out); len(r) > 80 {
		out = string(r[:77]) + "…"
	}
	return out
}
