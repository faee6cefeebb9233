package postgis

import (
	"context"

	"github.com/tensionmap/tensionmap/geo"
)

// AreaCountsDaily is AreaCounts read from the daily roll-up alone, the reference the
// monthly path is checked against.
func (db *DB) AreaCountsDaily(ctx context.Context, level string, f geo.Filter) ([]geo.AreaCount, error) {
	return db.areaCountsFrom(ctx, "a.level = $1", level, f, false)
}
