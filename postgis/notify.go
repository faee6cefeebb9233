package postgis

import (
	"context"
	"time"
)

// DataChannel is the channel on which the database announces, at commit, every
// change a tile or a count can show: incidents, areas, engine runs and alert moves
// (migration 0015).
const DataChannel = "tensionmap_data"

// ListenForChanges holds one connection of the pool listening on DataChannel and
// calls changed with the table named by every notification, until ctx ends. A lost
// connection is made again (waiting up to 30 s between tries, each failure handed to
// failed when not nil); since notifications sent meanwhile are lost, changed is
// called with "" on every (re)connection too.
func (db *DB) ListenForChanges(ctx context.Context, changed func(table string), failed func(error)) {
	wait := time.Second
	for ctx.Err() == nil {
		err := db.listen(ctx, changed)
		if ctx.Err() != nil {
			return
		}
		if failed != nil && err != nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (db *DB) listen(ctx context.Context, changed func(string)) error {
	c, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := c.Hijack() // held for as long as it listens, never back in the pool
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+DataChannel); err != nil {
		return err
	}
	changed("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		changed(n.Payload)
	}
}
