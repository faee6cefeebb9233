package postgis

import (
	"context"
	"time"

	"github.com/tensionmap/tensionmap/geo"
)

// Replica reads from a streaming replica and takes its versions from the primary.
// A replica cannot answer the data version itself: the data_version sequence is
// logged to the WAL in steps of 32, so a standby reads a value ahead of the
// primary's that does not change with each ingest. So the versions are the
// primary's, and Sync waits until the replica has replayed the primary's WAL as it
// stood once they were read: a tile drawn afterwards from the replica holds at least
// what its version names.
type Replica struct {
	*DB                   // the replica
	Primary *DB           // where writes go
	MaxLag  time.Duration // how long Sync waits for the replica; 10 s when 0
}

// DataVersion is the primary's.
func (r *Replica) DataVersion(ctx context.Context) (int64, error) { return r.Primary.DataVersion(ctx) }

// AnalysisVersion is the primary's.
func (r *Replica) AnalysisVersion(ctx context.Context) (int64, error) {
	return r.Primary.AnalysisVersion(ctx)
}

// AreasVersion is the primary's.
func (r *Replica) AreasVersion(ctx context.Context) (string, error) {
	return r.Primary.AreasVersion(ctx)
}

// Sync waits until the replica has replayed the primary's WAL up to where it is now.
func (r *Replica) Sync(ctx context.Context) error {
	var lsn string
	if err := r.Primary.Pool.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return err
	}
	maxLag := r.MaxLag
	if maxLag <= 0 {
		maxLag = 10 * time.Second
	}
	deadline := time.Now().Add(maxLag)
	for {
		var caught bool
		err := r.DB.Pool.QueryRow(ctx, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true)", lsn).Scan(&caught)
		if err != nil {
			return err
		}
		if caught {
			return nil
		}
		if time.Now().After(deadline) {
			return geo.Errorf(geo.EUNAVAILABLE, "the read replica is more than %s behind the primary", maxLag)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ChangedCells is the primary's: the data version it counts from is the primary's.
func (r *Replica) ChangedCells(ctx context.Context, since int64) (res int, cells []uint64, complete bool, err error) {
	return r.Primary.ChangedCells(ctx, since)
}
