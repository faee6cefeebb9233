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

	"github.com/tensionmap/tensionmap/geo"
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

// CopyBaseline measures the floors the ingest is compared with: the incidents
// stored, copied out to memory, then timed as a plain binary COPY of the same rows
// and columns, first into a table with no index, constraint or default, then into
// the incidents table itself, emptied, with its key and indexes. It returns the rows
// copied and the two times. It leaves incidents without roll-ups: Truncate before
// the next load.
func (db *DB) CopyBaseline(ctx context.Context) (rows int64, unindexed, indexed time.Duration, err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer conn.Release()
	// A floor is timed whole, however long it takes: no statement timeout.
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return 0, 0, 0, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "RESET statement_timeout") //nolint:errcheck
	cols := strings.Join(incidentColumns, ", ")
	var buf bytes.Buffer
	if _, err := conn.Conn().PgConn().CopyTo(ctx, &buf, "COPY (SELECT "+cols+" FROM incidents) TO STDOUT (FORMAT binary)"); err != nil {
		return 0, 0, 0, fmt.Errorf("postgis: copying incidents out: %w", err)
	}
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS copy_baseline;
		CREATE TABLE copy_baseline AS SELECT `+cols+` FROM incidents WITH NO DATA`); err != nil {
		return 0, 0, 0, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS copy_baseline")
	start := time.Now()
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf.Bytes()), "COPY copy_baseline ("+cols+") FROM STDIN (FORMAT binary)")
	unindexed = time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("postgis: baseline COPY: %w", err)
	}
	if _, err := conn.Exec(ctx, "TRUNCATE incidents"); err != nil {
		return 0, 0, 0, err
	}
	start = time.Now()
	tag2, err := conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf.Bytes()), "COPY incidents ("+cols+") FROM STDIN (FORMAT binary)")
	indexed = time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("postgis: baseline COPY into incidents: %w", err)
	}
	if tag2.RowsAffected() != tag.RowsAffected() {
		return 0, 0, 0, fmt.Errorf("postgis: baseline COPY into incidents stored %d of %d rows", tag2.RowsAffected(), tag.RowsAffected())
	}
	return tag.RowsAffected(), unindexed, indexed, nil
}

// RollupTables are the tables RollupRows counts: the incidents and every roll-up.
var RollupTables = []string{"incidents", "cell_day_counts", "cell_month_counts", "cell_year_counts", "cell_year_strands", "set_day_counts", "day_counts", "area_prefix_counts"}

// RollupRows returns the rows of each roll-up table, by name, and the incidents;
// the roll-ups of cells also by resolution, named "TABLE at resolution R".
func (db *DB) RollupRows(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range RollupTables {
		var n int64
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("postgis: rows of %s: %w", t, err)
		}
		out[t] = n
		if !strings.HasPrefix(t, "cell_") {
			continue
		}
		rows, err := db.Pool.Query(ctx, "SELECT res, count(*) FROM "+pgx.Identifier{t}.Sanitize()+" GROUP BY 1")
		if err != nil {
			return nil, fmt.Errorf("postgis: rows of %s: %w", t, err)
		}
		var res int16
		if _, err := pgx.ForEachRow(rows, []any{&res, &n}, func() error {
			out[fmt.Sprintf("%s at resolution %d", t, res)] = n
			return nil
		}); err != nil {
			return nil, fmt.Errorf("postgis: rows of %s: %w", t, err)
		}
	}
	return out, nil
}

// Truncate empties the incidents and roll-ups, for repeated benchmark runs.
func (db *DB) Truncate(ctx context.Context) error {
	_, err := db.Pool.Exec(ctx, "TRUNCATE incidents, cell_day_counts, cell_month_counts, cell_year_counts, cell_year_strands, set_day_counts, day_counts, area_prefix_counts, ingest_runs")
	return err
}

// BenchHexagon is one hexagon of the PostGIS tile baseline: the same cell, counts
// and analysis the tiles carry, with its polygon.
type BenchHexagon struct {
	Cell       uint64
	Res        int
	Count      *int // nil: suppressed
	Rate       *float64
	Z          *float64
	Confidence *int
	Category   *string
	Tension    *string
	Ring       [][2]float64 // closed, WGS84 [lon, lat]
}

// CreateBenchHexagons stores hexagons as polygons in Web Mercator with a GiST index,
// in the table bench_hexagons, as a PostGIS tile server would serve them. The table
// is replaced.
func (db *DB) CreateBenchHexagons(ctx context.Context, hexes []BenchHexagon) error {
	if _, err := db.Pool.Exec(ctx, `DROP TABLE IF EXISTS bench_hexagons;
		CREATE TABLE bench_hexagons (cell bigint PRIMARY KEY, cell_id text NOT NULL, res integer NOT NULL, count integer,
			suppressed integer, rate double precision, z double precision, confidence integer, category text, tension text,
			geom geometry(Polygon, 3857) NOT NULL)`); err != nil {
		return fmt.Errorf("postgis: bench hexagons: %w", err)
	}
	rows := make([][]any, len(hexes))
	for i, h := range hexes {
		var wkt strings.Builder
		wkt.WriteString("SRID=4326;POLYGON((")
		for j, p := range h.Ring {
			if j > 0 {
				wkt.WriteByte(',')
			}
			fmt.Fprintf(&wkt, "%.9f %.9f", p[0], p[1])
		}
		wkt.WriteString("))")
		var suppressed *int
		if h.Count == nil {
			one := 1
			suppressed = &one
		}
		rows[i] = []any{int64(h.Cell), fmt.Sprintf("%x", h.Cell), h.Res, h.Count, suppressed, h.Rate, h.Z, h.Confidence, h.Category, h.Tension, wkt.String()}
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE bench_hexagons_in (cell bigint, cell_id text, res integer, count integer,
		suppressed integer, rate double precision, z double precision, confidence integer, category text, tension text, ewkt text)`); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS bench_hexagons_in")
	cols := []string{"cell", "cell_id", "res", "count", "suppressed", "rate", "z", "confidence", "category", "tension", "ewkt"}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_hexagons_in"}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("postgis: bench hexagons: %w", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO bench_hexagons
		SELECT cell, cell_id, res, count, suppressed, rate, z, confidence, category, tension, ST_Transform(ST_GeomFromEWKT(ewkt), 3857)
		FROM bench_hexagons_in;
		CREATE INDEX ON bench_hexagons USING gist (geom);
		CREATE INDEX ON bench_hexagons (res);
		ANALYZE bench_hexagons`); err != nil {
		return fmt.Errorf("postgis: bench hexagons: %w", err)
	}
	return nil
}

// BenchHexagonTile renders a tile of bench_hexagons at one resolution with
// ST_AsMVT, as PostGIS tile servers (pg_tileserv, Martin) do: the tile envelope
// with a buffer, ST_AsMVTGeom clipping to extent 4096, the cell as feature id.
func (db *DB) BenchHexagonTile(ctx context.Context, z, x, y, res int) ([]byte, error) {
	var b []byte
	err := db.Pool.QueryRow(ctx, `
		WITH env AS (SELECT ST_TileEnvelope($1, $2, $3) AS e, ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096) AS m)
		SELECT coalesce(ST_AsMVT(t, 'hotspots', 4096, 'geom', 'id'), '') FROM (
			SELECT h.cell AS id, h.cell_id AS cell, h.count, h.suppressed, h.rate, h.z, h.confidence, h.category, h.tension,
				ST_AsMVTGeom(h.geom, env.e, 4096, 64, true) AS geom
			FROM bench_hexagons h, env WHERE h.res = $4 AND h.geom && env.m) t WHERE t.geom IS NOT NULL`, z, x, y, res).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("postgis: ST_AsMVT tile %d/%d/%d: %w", z, x, y, err)
	}
	return b, nil
}

// AreaCountsDaily is AreaCounts read from the daily roll-up alone: the reference the
// tree of area counts is checked and timed against.
func (db *DB) AreaCountsDaily(ctx context.Context, level string, f geo.Filter) ([]geo.AreaCount, error) {
	return db.areaCountsFrom(ctx, "a.level = $1", level, f)
}

// TableSize is a table's name and its size with its indexes and TOAST, in bytes.
type TableSize struct {
	Name  string
	Bytes int64
}

// BenchSizes returns the database's size (pg_database_size), its largest tables
// (at most n, by pg_total_relation_size; PostGIS's spatial_ref_sys left out) and the
// server's version.
func (db *DB) BenchSizes(ctx context.Context, n int) (size int64, tables []TableSize, version string, err error) {
	if err := db.Pool.QueryRow(ctx, "SELECT pg_database_size(current_database()), current_setting('server_version')").Scan(&size, &version); err != nil {
		return 0, nil, "", err
	}
	rows, err := db.Pool.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'm', 'p') AND s.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relname <> 'spatial_ref_sys'
		ORDER BY 2 DESC LIMIT $1`, n)
	if err != nil {
		return 0, nil, "", err
	}
	tables, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TableSize, error) {
		var t TableSize
		return t, r.Scan(&t.Name, &t.Bytes)
	})
	return size, tables, version, err
}
