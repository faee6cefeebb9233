package postgis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ScratchDatabase creates an empty database with PostGIS on the server of url, for
// benchmarks, and returns its URL and a function that drops it.
func ScratchDatabase(ctx context.Context, url, prefix string) (string, func(), error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", nil, fmt.Errorf("postgis: scratch database: %w", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 4)
	rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("postgis: creating %s: %w", name, err)
	}
	drop := func() {
		c, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	scfg := cfg.Copy()
	scfg.Database = name
	sc, err := pgx.ConnectConfig(ctx, scfg)
	if err != nil {
		drop()
		return "", nil, err
	}
	defer sc.Close(ctx)
	if _, err := sc.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		drop()
		return "", nil, fmt.Errorf("postgis: %s: %w", name, err)
	}
	return withDatabase(url, name), drop, nil
}

// withDatabase returns url with its database replaced.
func withDatabase(url, name string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		rest := url[i+3:]
		q := ""
		if j := strings.IndexByte(rest, '?'); j >= 0 {
			rest, q = rest[:j], rest[j:]
		}
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			rest = rest[:j]
		}
		return url[:i+3] + rest + "/" + name + q
	}
	return url + " dbname=" + name
}

// CopyBaseline measures the floor the ingest is compared with: the incidents
// stored, copied out to memory, then timed as a plain binary COPY of the same rows
// and columns into a table with no index, constraint or default. It returns the rows
// copied and the time the COPY took.
func (db *DB) CopyBaseline(ctx context.Context) (int64, time.Duration, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Release()
	cols := strings.Join(incidentColumns, ", ")
	var buf bytes.Buffer
	if _, err := conn.Conn().PgConn().CopyTo(ctx, &buf, "COPY (SELECT "+cols+" FROM incidents) TO STDOUT (FORMAT binary)"); err != nil {
		return 0, 0, fmt.Errorf("postgis: copying incidents out: %w", err)
	}
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS copy_baseline;
		CREATE TABLE copy_baseline AS SELECT `+cols+` FROM incidents WITH NO DATA`); err != nil {
		return 0, 0, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS copy_baseline")
	start := time.Now()
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf.Bytes()), "COPY copy_baseline ("+cols+") FROM STDIN (FORMAT binary)")
	took := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("postgis: baseline COPY: %w", err)
	}
	return tag.RowsAffected(), took, nil
}

// Truncate empties the incidents and roll-ups, for repeated benchmark runs.
func (db *DB) Truncate(ctx context.Context) error {
	_, err := db.Pool.Exec(ctx, "TRUNCATE incidents, cell_counts, day_counts, ingest_runs")
	return err
}
