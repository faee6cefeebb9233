package tiles

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
	CellCounts(ctx context.Context, res int, f geo.Filter) ([]geo.CellCount, error)
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
	// Rate is the rate per 1,000 population of a shown count, nil when unknown.
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

// Key is everything the tile depends on.
func (t *Request) Key() string {
	f := t.Filter
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%d/%d/%d|v%s|", t.Layer, t.Tile.Z, t.Tile.X, t.Tile.Y, t.Version)
	if !f.From.IsZero() {
		b.WriteString(f.From.Format(time.DateOnly))
	}
	b.WriteString("..")
	if !f.To.IsZero() {
		b.WriteString(f.To.Format(time.DateOnly))
	}
	for _, part := range [][]string{SortedCopy(f.Strands), SortedCopy(KindStrings(f.Kinds)), SortedCopy(f.Sources), SortedCopy(t.Status)} {
		b.WriteString("|" + strings.Join(part, ","))
	}
	fmt.Fprintf(&b, "|%s|%s|exact=%v", t.Level, t.Metric, t.exact())
	if t.Layer == LayerIncidents && len(t.Scope) > 0 {
		b.WriteString("|scope=" + strings.Join(SortedCopy(t.Scope), ","))
	}
	return b.String()
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
}

// Service is the tile machinery: a provider per layer, the rendered-tile cache in
// front of them, the hexagon cache, derived values and the data version.
type Service struct {
	src       Source
	opts      Options
	cache     *Cache
	hexes     *Hexagons
	memo      *Memo
	versions  *Versions
	providers map[string]Provider
}

// NewService returns the tile service over src with the five layers.
func NewService(src Source, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{src: src, opts: opts, cache: NewCache(opts.CacheBytes), hexes: NewHexagons(1 << 20), memo: NewMemo(64),
		versions: NewVersions(src)}
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

// Version returns the current data version.
func (s *Service) Version(ctx context.Context) (string, error) { return s.versions.Current(ctx) }

// Forget makes the next tile ask for the data version again: new data arrived.
func (s *Service) Forget() { s.versions.Forget() }

// Render returns the tile of req (its Version set), from the cache or rendered by
// its layer's provider. hit reports a cached tile; rows is the number of features
// of a tile rendered by this call.
func (s *Service) Render(ctx context.Context, req *Request) (e *Entry, hit bool, rows int, err error) {
	p, ok := s.providers[req.Layer]
	if !ok {
		return nil, false, 0, geo.Errorf(geo.ENOTFOUND, "no tile layer %q", req.Layer)
	}
	e, hit, err = s.cache.Get(ctx, req.Key(), func(ctx context.Context) ([]byte, error) {
		l, err := p.Layer(ctx, req)
		if err != nil {
			return nil, err
		}
		rows = len(l.Features)
		return Encode(req.Tile, []Layer{l})
	})
	return e, hit, rows, err
}
