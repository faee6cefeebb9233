package tiles

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// VersionSource answers the versions a tile depends on: they change when the data,
// the analysis or the areas do.
type VersionSource interface {
	DataVersion(ctx context.Context) (int64, error)
	AnalysisVersion(ctx context.Context) (int64, error)
	AreasVersion(ctx context.Context) (string, error)
}

// Syncer is a VersionSource whose data are read elsewhere (a replica): Sync returns
// once the data read from now on hold at least what the versions just read name.
type Syncer interface {
	Sync(ctx context.Context) error
}

// VersionTTL is how long the data version is trusted before the database is asked
// again; an intake through this server refreshes it at once.
const VersionTTL = 2 * time.Second

// settle is how long after Forget a version equal to the one before is not trusted:
// a replica may not yet have replayed the change it was told of.
const settle = 10 * time.Second

// Versions tracks the data version "data.analysis.areas", asked of the database at
// most once per TTL so that a cached tile is served without a round trip; with a
// TTL below 0 it is trusted until Forget (the database announces its changes).
type Versions struct {
	src VersionSource
	ttl time.Duration

	mu      sync.Mutex
	version string
	checked time.Time
	// forgotten is when Forget was last called, and before the version then: until
	// the version read differs, or settle passes, it is asked again each time.
	forgotten time.Time
	before    string
}

// NewVersions returns a tracker over src with VersionTTL.
func NewVersions(src VersionSource) *Versions { return &Versions{src: src, ttl: VersionTTL} }

// NewVersionsTTL returns a tracker over src trusting a version for ttl (below 0:
// until Forget).
func NewVersionsTTL(src VersionSource, ttl time.Duration) *Versions {
	if ttl == 0 {
		ttl = VersionTTL
	}
	return &Versions{src: src, ttl: ttl}
}

func (v *Versions) fresh() bool {
	if v.version == "" || v.checked.IsZero() {
		return false
	}
	return v.ttl < 0 || time.Since(v.checked) < v.ttl
}

// Current returns the data version, which changes on ingest, area import and
// engine run.
func (v *Versions) Current(ctx context.Context) (string, error) {
	v.mu.Lock()
	if v.fresh() {
		s := v.version
		v.mu.Unlock()
		return s, nil
	}
	v.mu.Unlock()
	d, err := v.src.DataVersion(ctx)
	if err != nil {
		return "", err
	}
	a, err := v.src.AnalysisVersion(ctx)
	if err != nil {
		return "", err
	}
	ar, err := v.src.AreasVersion(ctx)
	if err != nil {
		return "", err
	}
	if sy, ok := v.src.(Syncer); ok {
		if err := sy.Sync(ctx); err != nil {
			return "", err
		}
	}
	s := fmt.Sprintf("%d.%d.%s", d, a, ar)
	v.mu.Lock()
	v.version, v.checked = s, time.Now()
	if !v.forgotten.IsZero() {
		if s == v.before && time.Since(v.forgotten) < settle {
			v.checked = time.Time{} // the change told of has not arrived here yet
		} else {
			v.forgotten = time.Time{}
		}
	}
	v.mu.Unlock()
	return s, nil
}

// Forget makes the next tile ask the database for the version: new data arrived.
// Until a different version is read (or settle passes) it is asked every time, since
// a replica may answer before it has replayed the change.
func (v *Versions) Forget() {
	v.mu.Lock()
	v.checked = time.Time{}
	if v.forgotten.IsZero() {
		v.before = v.version
	}
	v.forgotten = time.Now()
	v.mu.Unlock()
}

// AreasVersion and AnalysisVersion are the parts of a data version that area
// geometries and the engine's results depend on: they outlive an ingest.
func AreasVersion(v string) string {
	parts := strings.SplitN(v, ".", 3)
	return parts[len(parts)-1]
}

// AnalysisVersion is the analysis and areas parts of a data version.
func AnalysisVersion(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 3 {
		return v
	}
	return parts[1] + "." + parts[2]
}
