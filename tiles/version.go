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

// VersionTTL is how long the data version is trusted before the database is asked
// again; an intake through this server refreshes it at once.
const VersionTTL = 2 * time.Second

// Versions tracks the data version "data.analysis.areas", asked of the database at
// most once per VersionTTL so that a cached tile is served without a round trip.
type Versions struct {
	src VersionSource

	mu      sync.Mutex
	version string
	checked time.Time
}

// NewVersions returns a tracker over src.
func NewVersions(src VersionSource) *Versions { return &Versions{src: src} }

// Current returns the data version, which changes on ingest, area import and
// engine run.
func (v *Versions) Current(ctx context.Context) (string, error) {
	v.mu.Lock()
	if time.Since(v.checked) < VersionTTL && v.version != "" {
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
	s := fmt.Sprintf("%d.%d.%s", d, a, ar)
	v.mu.Lock()
	v.version, v.checked = s, time.Now()
	v.mu.Unlock()
	return s, nil
}

// Forget makes the next tile ask the database for the version: new data arrived.
func (v *Versions) Forget() {
	v.mu.Lock()
	v.checked = time.Time{}
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
