package postgis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// mergeLock is the advisory lock one server holds while it merges the days due, so
// that several serve replicas on one database do not merge the same days at once.
const mergeLock = 7455_2023_0004

// mergeChunkDays is the most days one step of a due merge covers: each step is a
// transaction per table, short enough not to hold back the ingest or the reads.
const mergeChunkDays = 31

// markMergeDue records the days [first, last] of an ingest run whose daily roll-up
// rows it did not merge.
func (db *DB) markMergeDue(ctx context.Context, first, last time.Time) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO rollup_merges_due (first_day, last_day) VALUES ($1, $2)`, first, last)
	if err != nil {
		return fmt.Errorf("postgis: recording the days due a merge: %w", err)
	}
	return nil
}

// MergeDue merges the daily roll-up rows of the days ingest runs left unmerged
// (see Compact), a month at a time, oldest span first, and forgets each span once
// it is merged, one table at a time (a connection and a core, the rest left to the
// server's reads). It returns the days it merged; none when another server holds
// the merge or nothing is due. Like every merge it changes no count.
func (db *DB) MergeDue(ctx context.Context) (days int, err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", mergeLock).Scan(&ok); err != nil || !ok {
		return 0, err
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", mergeLock); err != nil {
			conn.Conn().Close(context.Background())
		}
	}()
	type span struct {
		id          int64
		first, last time.Time
	}
	rows, _ := conn.Query(ctx, `SELECT id, first_day, last_day FROM rollup_merges_due ORDER BY id`)
	var due []span
	var s span
	if _, err := pgx.ForEachRow(rows, []any{&s.id, &s.first, &s.last}, func() error { due = append(due, s); return nil }); err != nil {
		return 0, fmt.Errorf("postgis: reading the days due a merge: %w", err)
	}
	for _, s := range due {
		for from := s.first; !from.After(s.last); from = from.AddDate(0, 0, mergeChunkDays) {
			to := from.AddDate(0, 0, mergeChunkDays-1)
			if to.After(s.last) {
				to = s.last
			}
			// One table at a time: the server goes on answering tiles meanwhile.
			if err := db.compactRollups(ctx, from, to, true, nil, nil, true); err != nil {
				return days, err
			}
			days += int(to.Sub(from).Hours()/24) + 1
		}
		if _, err := conn.Exec(ctx, `DELETE FROM rollup_merges_due WHERE id = $1`, s.id); err != nil {
			return days, fmt.Errorf("postgis: forgetting merged days: %w", err)
		}
	}
	return days, nil
}

// MergeDueEvery runs MergeDue every interval until ctx ends, logging what it merged
// and any failure (the next round tries again). serve runs it on the primary.
func (db *DB) MergeDueEvery(ctx context.Context, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		start := time.Now()
		days, err := db.MergeDue(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("merging the roll-up rows of the days ingest runs left unmerged failed; trying again later", "err", err)
		case days > 0:
			log.Info("merged the roll-up rows of the days ingest runs left unmerged", "days", days, "took", time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
