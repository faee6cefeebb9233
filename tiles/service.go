package tiles

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/tension"
)

// Tile layers.
const (
	LayerHotspots   = "hotspots"
	LayerAreas      = "areas"
	LayerAlerts     = "alerts"
	LayerIncidents  = "incidents"
	LayerNearRepeat = "near_repeat"
)

// MaxFeatures caps the features of one tile: beyond it the smallest counts go.
const MaxFeatures = 20000

// Source is what the layers read of the database. The postgis store answers it.
type Source interface {
	VersionSource
	Resolutions(ctx context.Context) ([]int, error)
	// CellTotals are the counts of every cell at res, each its Count alone.
	CellTotals(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error)
	AreaCounts(ctx context.Context, level string, f geo.Filter) ([]geo.AreaCount, error)
	Incidents(ctx context.Context, q geo.IncidentQuery) ([]geo.StoredIncident, error)
	Alerts(ctx context.Context, f tension.AlertFilter) ([]tension.StoredAlert, error)
	Hotspots(ctx context.Context, res int) (from, to time.Time, runID int64, hotspots []tension.Hotspot, err error)
	NearRepeat(ctx context.Context) (*tension.NearRepeatReport, int64, error)
	LoadAreas(ctx context.Context) ([]geo.Area, error)
	AreasOutline(ctx context.Context) (orb.MultiPolygon, error)
}

// Disclosure decides how counts are shown to the caller of a tile: as they are, or
// perturbed and withheld for a role that may not see small counts.
type Disclosure interface {
	// Exact reports whether counts are shown as they are.
	Exact() bool
	// Count returns the count n to show, nil when withheld; item names the figure.
	Count(n int, item ...string) *int
	// Rate is the rate per 1,000 population of a shown count, nil when unknown. It
	// reads shown and does not keep it.
	Rate(shown *int, population int) *float64
	// Hotspots returns the hot spot analysis of from..to as the caller may see it.
	Hotspots(ctx context.Context, res int, from, to time.Time, hs []tension.Hotspot) ([]tension.Hotspot, error)
}

// Request is a parsed tile request.
type Request struct {
	Layer  string
	Tile   maptile.Tile
	Filter geo.Filter
	Level  string
	Metric string // when set, the one measure the tile carries
	Status []string
	// Scope, for incident points, is the areas a scoped caller may see (nil: all).
	Scope      []string
	Disclosure Disclosure
	Version    string
}

func (t *Request) exact() bool { return t.Disclosure != nil && t.Disclosure.Exact() }

// Key is everything the tile depends on but the data version: the cache holds a
// tile under it with the version it was drawn at.
func (t *Request) Key() string {
	f := t.Filter
	b := make([]byte, 0, 96)
	b = append(b, t.Layer...)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Tile.Z), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Tile.X), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Tile.Y), 10)
	b = append(b, '|')
	b = geo.AppendDay(b, f.From)
	b = append(b, ".."...)
	b = geo.AppendDay(b, f.To)
	b = appendSorted(b, f.Strands)
	b = appendSorted(b, KindStrings(f.Kinds))
	b = appendSorted(b, f.Sources)
	b = appendSorted(b, t.Status)
	b = append(b, '|')
	b = append(b, t.Level...)
	b = append(b, '|')
	b = append(b, t.Metric...)
	b = append(b, "|exact="...)
	b = strconv.AppendBool(b, t.exact())
	if t.Layer == LayerIncidents && len(t.Scope) > 0 {
		b = append(b, "|scope="...)
		b = appendSorted(b, t.Scope)
	}
	return string(b)
}

// appendSorted appends "|" and the values of s sorted and joined by commas.
func appendSorted(b []byte, s []string) []byte {
	b = append(b, '|')
	if len(s) > 1 && !slices.IsSorted(s) {
		s = SortedCopy(s)
	}
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, v...)
	}
	return b
}

// FilterKey names a filter in the keys of derived values.
func FilterKey(f geo.Filter) string {
	t := Request{Filter: f}
	return t.Key()
}

// SortedCopy returns a sorted copy of s.
func SortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// KindStrings names kinds.
func KindStrings(ks []geo.Kind) []string {
	if len(ks) == 0 {
		return nil
	}
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// Provider builds one layer of a tile.
type Provider interface {
	Layer(ctx context.Context, req *Request) (Layer, error)
}

// Options configure a Service.
type Options struct {
	// CacheBytes bounds the rendered tiles kept in memory (below 0: none).
	CacheBytes int64
	// TensionScale is the ordered scale of tension levels, lowest first.
	TensionScale tension.Scale
	// Now is the clock of the alerts' 90-day window.
	Now func() time.Time
	// VersionTTL is how long the data version is trusted (0: VersionTTL; below 0:
	// until Forget, for a server told of changes by the database).
	VersionTTL time.Duration
	// Wait is how long a request waits for a tile being drawn before it is answered
	// with the tile's previous version, or told to come back (0: DefaultWait).
	Wait time.Duration
	// Log, when set, is told of every render and background count that took longer
	// than Wait, with the steps its time went to.
	Log *slog.Logger
}

// DefaultWait is how long a request waits for a tile by default: well before a
// browser or a proxy gives up.
const DefaultWait = 3 * time.Second

// Service is the tile machinery: a provider per layer, the rendered-tile cache in
// front of them, the hexagon cache, derived values and the data version.
type Service struct {
	src       Source
	opts      Options
	cache     *Cache
	hexes     *Hexagons
	tileHexes *tileHexCache
	memo      *Memo
	// held keeps the latest counts of each resolution and filter, to carry over to
	// the next data version (carriedCounts).
	held      *Memo
	versions  *Versions
	providers map[string]Provider

	// seen is the data version the cache was last advanced to; advancing is one at a time.
	seen      atomic.Pointer[string]
	advancing sync.Mutex
	// warming holds the keys of the shared counts being computed in the background;
	// warmers lets one such computation run at a time.
	warming    sync.Map
	warmers    chan struct{}
	warmFailed atomic.Int64
}

// NewService returns the tile service over src with the five layers.
func NewService(src Source, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultWait
	}
	s := &Service{src: src, opts: opts, cache: NewCache(opts.CacheBytes), hexes: NewHexagons(1 << 20), tileHexes: newTileHexCache(1 << 20), memo: NewMemo(64), held: NewMemo(32),
		versions: NewVersionsTTL(src, opts.VersionTTL), warmers: make(chan struct{}, 1)}
	s.cache.CompressInBackground(gzipBytes)
	s.providers = map[string]Provider{
		LayerHotspots:   hotspotLayer{s},
		LayerAreas:      areaLayer{s},
		LayerAlerts:     alertLayer{s},
		LayerIncidents:  incidentLayer{s},
		LayerNearRepeat: nearRepeatLayer{s},
	}
	return s
}

// Cache is the rendered-tile cache.
func (s *Service) Cache() *Cache { return s.cache }

// Hexagons is the hexagon geometry cache.
func (s *Service) Hexagons() *Hexagons { return s.hexes }

// Memo holds the derived values shared by tiles and panels.
func (s *Service) Memo() *Memo { return s.memo }

// Warming returns how many counts of a whole resolution are being made, or wait to
// be made, in the background for the tiles after the first (cellsFor), and how many
// such counts failed or outlasted their time since the service started.
func (s *Service) Warming() (inFlight int, failed int64) {
	s.warming.Range(func(any, any) bool { inFlight++; return true })
	return inFlight, s.warmFailed.Load()
}

// Version returns the current data version.
func (s *Service) Version(ctx context.Context) (string, error) { return s.versions.Current(ctx) }

// Forget makes the next tile ask for the data version again: new data arrived.
func (s *Service) Forget() { s.versions.Forget() }

// Render returns the tile of req (its Version set), from the cache or rendered by
// its layer's provider. The state says which: a render that takes longer than
// Options.Wait leaves the request with the tile's previous version (Stale) or, when
// none is held, ErrSlow; the render goes on and its tile is kept. rows is the number
// of features of a tile rendered for this call.
func (s *Service) Render(ctx context.Context, req *Request) (e *Entry, state State, rows int, err error) {
	p, ok := s.providers[req.Layer]
	if !ok {
		return nil, Rendered, 0, geo.Errorf(geo.ENOTFOUND, "no tile layer %q", req.Layer)
	}
	s.advance(ctx, req.Version)
	key := req.Key()
	if e := s.cache.lookup(key, req.Version, false); e != nil {
		// Held: no render to set up (the closure below and its count escape).
		return e, Hit, 0, nil
	}
	var n atomic.Int64
	e, state, err = s.cache.Fetch(ctx, key, req.Version, Tag{Layer: req.Layer, Tile: req.Tile, Exact: req.exact()}, s.opts.Wait,
		func(ctx context.Context) (b []byte, err error) {
			ctx, done := s.watch(ctx, "tile render past the tile wait")
			defer func() {
				done(err, func() []any {
					return []any{"layer", req.Layer, "tile", fmt.Sprintf("%d/%d/%d", req.Tile.Z, req.Tile.X, req.Tile.Y), "filter", FilterKey(req.Filter)}
				})
			}()
			l, err := p.Layer(ctx, req)
			if err != nil {
				return nil, err
			}
			n.Store(int64(len(l.Features)))
			if l.release != nil {
				defer l.release()
			}
			defer step(ctx, "encode", time.Now())
			return Encode(req.Tile, []Layer{l}) // compressed by the cache, after the answer
		})
	return e, state, int(n.Load()), err
}
